package relay

import (
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// defaultMode is how Pipe moves bytes between two TCP conns on Linux: its own splice loop.
var defaultMode = modeSplice

// spliceFlags keeps splice from blocking on the pipe; the sockets are non-blocking already.
const spliceFlags = unix.SPLICE_F_NONBLOCK

// splicer moves one direction of a TCP tunnel. It waits for src to become readable holding
// neither pipe nor buffer, takes a pipe from the pool once data is there (a pooled buffer when
// no pipe is free), writes it all to dst, and gives the pipe back when src has no more data.
type splicer struct {
	t    *tunnel
	pool *pipePool

	p       *pipe   // held while data is in flight
	buf     *[]byte // held instead of p when no pipe was free
	off     int     // start of the pending bytes in buf
	pending int     // bytes read from src and not yet written to dst
	written int64
	eof     bool
	err     error // a system call's failure inside a callback

	fill, drain func(uintptr) bool // the callbacks, made once
}

// copySplice copies src to dst through a splicer, re-arming deadlines from the shared idle
// clock: a deadline that passes while the other direction moved bytes is pushed back.
func (t *tunnel) copySplice(dst, src *net.TCPConn, _ int) (int64, error) {
	rc, err := src.SyscallConn()
	if err != nil {
		return 0, strip("read", err)
	}
	wc, err := dst.SyscallConn()
	if err != nil {
		return 0, strip("write", err)
	}
	s := &splicer{t: t, pool: t.pipes}
	s.fill, s.drain = s.fillFrom, s.drainTo
	defer s.release()
	if err := src.SetReadDeadline(t.act.deadline()); err != nil {
		return 0, strip("read", err)
	}
	if err := dst.SetWriteDeadline(t.act.deadline()); err != nil {
		return 0, strip("write", err)
	}
	for {
		if err := s.readOnce(rc, src); err != nil || s.eof {
			return s.written, err
		}
		if err := s.writeAll(wc, dst); err != nil {
			return s.written, err
		}
	}
}

// readOnce waits until src has data (or EOF) and moves it into a pipe or buffer.
func (s *splicer) readOnce(rc syscall.RawConn, src *net.TCPConn) error {
	for {
		err := rc.Read(s.fill)
		switch {
		case err == nil && s.err != nil:
			return strip("splice", s.err)
		case err == nil:
			if s.pending > 0 {
				s.t.act.moved(s.t.act.now())
			}
			return nil
		case !isTimeout(err):
			return strip("read", err)
		}
		if err := s.t.rearm(src.SetReadDeadline); err != nil {
			return err
		}
	}
}

// writeAll writes the pending bytes to dst.
func (s *splicer) writeAll(wc syscall.RawConn, dst *net.TCPConn) error {
	for s.pending > 0 {
		err := wc.Write(s.drain)
		switch {
		case err == nil && s.err != nil:
			return strip("splice", s.err)
		case err == nil:
		case !isTimeout(err):
			return strip("write", err)
		default:
			if err := s.t.rearm(dst.SetWriteDeadline); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillFrom is the read callback: it returns false, holding nothing, when src has no data.
func (s *splicer) fillFrom(fd uintptr) bool {
	if s.p == nil && s.buf == nil {
		if s.p = s.pool.get(); s.p == nil {
			s.buf = buffers.get()
		}
	}
	for {
		var n int
		var err error
		if s.p != nil {
			var n64 int64
			n64, err = unix.Splice(int(fd), nil, s.p.w, nil, pipeSize, spliceFlags)
			n = int(n64)
		} else {
			n, err = unix.Read(int(fd), *s.buf)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			s.release()
			return false
		case err != nil:
			s.err = err
		case n == 0:
			s.eof = true
		default:
			s.off, s.pending = 0, n
		}
		return true
	}
}

// drainTo is the write callback: it writes the pending bytes and returns false while dst is
// full.
func (s *splicer) drainTo(fd uintptr) bool {
	for s.pending > 0 {
		var n int
		var err error
		if s.p != nil {
			var n64 int64
			n64, err = unix.Splice(s.p.r, nil, int(fd), nil, s.pending, spliceFlags)
			n = int(n64)
		} else {
			n, err = unix.Write(int(fd), (*s.buf)[s.off:s.off+s.pending])
		}
		if n > 0 {
			s.off += n
			s.pending -= n
			s.written += int64(n)
			s.t.act.moved(s.t.act.now())
			continue
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err == nil:
			err = io.ErrNoProgress
		}
		s.err = err
		return true
	}
	return true
}

// release gives back the pipe or buffer; a pipe that still holds data is closed.
func (s *splicer) release() {
	if s.p != nil {
		if s.pending > 0 {
			s.pool.drop(s.p)
		} else {
			s.pool.put(s.p)
		}
		s.p = nil
	}
	if s.buf != nil {
		buffers.put(s.buf)
		s.buf = nil
	}
}
