package relay

import "golang.org/x/sys/unix"

// stats returns the pipes alive and the pipes free.
func (p *pipePool) stats() (made, free int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made, len(p.free)
}

// close closes the free pipes; pipes in use are closed by drop or go back to the pool.
func (p *pipePool) close() {
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.made -= len(free)
	p.mu.Unlock()
	for _, pp := range free {
		unix.Close(pp.r)
		unix.Close(pp.w)
	}
}
