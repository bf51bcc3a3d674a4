package relay

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// bufSize is the size of the pooled copy buffers.
const bufSize = 32 << 10

// bufferPool hands out copy buffers and counts how often it did, so tests can tell whether a
// tunnel spliced or copied.
type bufferPool struct {
	pool sync.Pool
	gets atomic.Int64
}

func (p *bufferPool) get() *[]byte {
	p.gets.Add(1)
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, bufSize)
	return &b
}

func (p *bufferPool) put(b *[]byte) { p.pool.Put(b) }

// buffers is the process's cache of copy buffers; like sync.Pool it holds no user data.
var buffers bufferPool

// copyBuffer copies src to dst through a pooled buffer, re-arming deadlines from the shared
// idle clock. A net.Conn cannot wait for data without a read, so the buffer is held while it
// waits: conns that reach this copy cost 32 KiB a direction when idle.
func (t *tunnel) copyBuffer(dst, src net.Conn, dir int) (int64, error) {
	var written int64
	if err := src.SetReadDeadline(t.act.deadline()); err != nil {
		return 0, strip("read", err)
	}
	if err := dst.SetWriteDeadline(t.act.deadline()); err != nil {
		return 0, strip("write", err)
	}
	for {
		buf := buffers.get()
		n, rerr := src.Read(*buf)
		if n > 0 {
			t.act.moved(t.act.now())
			m, werr := t.writeAll(dst, (*buf)[:n])
			written += int64(m)
			if werr != nil {
				buffers.put(buf)
				return written, werr
			}
		}
		buffers.put(buf)
		switch {
		case rerr == nil:
		case isEOF(rerr):
			return written, nil
		case isTimeout(rerr):
			if err := t.rearm(src.SetReadDeadline); err != nil {
				return written, err
			}
		default:
			return written, strip("read", rerr)
		}
	}
}

// writeAll writes p to dst, re-arming the write deadline while the tunnel is not quiet.
func (t *tunnel) writeAll(dst net.Conn, p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := dst.Write(p[written:])
		written += n
		if n > 0 {
			t.act.moved(t.act.now())
		}
		if err == nil {
			continue
		}
		if !isTimeout(err) {
			return written, strip("write", err)
		}
		if err := t.rearm(dst.SetWriteDeadline); err != nil {
			return written, err
		}
	}
	return written, nil
}

// rearm is called when a deadline passed: it returns ErrIdle when the tunnel is quiet and
// otherwise sets the next deadline with set.
func (t *tunnel) rearm(set func(time.Time) error) error {
	if t.act.quiet(t.act.now()) {
		return ErrIdle
	}
	if err := set(t.act.deadline()); err != nil {
		return strip("deadline", err)
	}
	return nil
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
