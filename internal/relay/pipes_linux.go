package relay

import (
	"errors"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// pipeSize is the capacity asked of each splice pipe. The kernel may grant less (the per-user
// pipe quota); a smaller pipe still works, with more system calls.
const pipeSize = 1 << 20

// minPipeSize is the smallest pipe worth splicing through. Past the per-user soft quota
// (fs.pipe-user-pages-soft) an unprivileged process gets pipes of two pages, slower than the
// buffer copy; such a pipe is closed and the tunnel copies instead.
const minPipeSize = 64 << 10

// pipe is a kernel pipe used to splice between two sockets. It is empty whenever it is in a
// pool.
type pipe struct {
	r, w int
}

// pipePool is a bounded cache of splice pipes. A tunnel takes a pipe only when data is ready
// and gives it back as soon as the pipe is drained, so idle tunnels hold none; when all max
// pipes are in use, tunnels copy through a buffer instead.
type pipePool struct {
	max  int
	size int

	mu   sync.Mutex
	free []*pipe
	made int // pipes alive: free and in use
}

func newPipePool(max, size int) *pipePool {
	return &pipePool{max: max, size: size}
}

// pipes is the process's pipe cache; like the runtime's own, it holds no user data.
var pipes = newPipePool(max(16, 4*runtime.GOMAXPROCS(0)), pipeSize)

// get returns an empty pipe, or nil when max pipes are in use or none can be made.
func (p *pipePool) get() *pipe {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		pp := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return pp
	}
	if p.made >= p.max {
		p.mu.Unlock()
		return nil
	}
	p.made++
	p.mu.Unlock()
	pp, err := newPipe(p.size)
	if err != nil {
		p.mu.Lock()
		p.made--
		p.mu.Unlock()
		return nil
	}
	return pp
}

// put gives back an empty pipe.
func (p *pipePool) put(pp *pipe) {
	p.mu.Lock()
	p.free = append(p.free, pp)
	p.mu.Unlock()
}

// drop closes a pipe that may still hold data.
func (p *pipePool) drop(pp *pipe) {
	unix.Close(pp.r)
	unix.Close(pp.w)
	p.mu.Lock()
	p.made--
	p.mu.Unlock()
}

func newPipe(size int) (*pipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	got, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, size)
	if err != nil { // refused (the per-user quota): keep what the kernel gave
		got, err = unix.FcntlInt(uintptr(fds[0]), unix.F_GETPIPE_SZ, 0)
	}
	if err != nil || got < minPipeSize {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, errPipeTooSmall
	}
	return &pipe{r: fds[0], w: fds[1]}, nil
}

var errPipeTooSmall = errors.New("relay: splice pipe too small")
