package relay

import (
	"io"
	"net"
	"time"
)

// chunk is how many bytes one TCPConn.ReadFrom call may move before the deadlines are
// re-armed and the progress is counted.
const chunk = 256 << 10

// copyReadFrom copies src to dst with dst.ReadFrom over a LimitedReader, which keeps the
// runtime's splice(2). The runtime holds a pipe for the whole call, also while it waits for
// src; copySplice does not. It checks in with the idle clock at least every act.step.
//
// The runtime drops a pipe that still holds data when the write deadline passes, so a write
// that stalls past its deadline ends the tunnel: the bytes in that pipe are lost.
func (t *tunnel) copyReadFrom(dst, src *net.TCPConn, dir int) (int64, error) {
	var written int64
	lr := io.LimitedReader{R: src}
	for {
		readBy, writeBy := t.readFromDeadlines()
		if err := src.SetReadDeadline(readBy); err != nil {
			return written, strip("read", err)
		}
		if err := dst.SetWriteDeadline(writeBy); err != nil {
			return written, strip("write", err)
		}
		lr.N = chunk
		n, err := dst.ReadFrom(&lr)
		written += n
		now := t.act.now()
		if n > 0 {
			t.act.moved(now)
		}
		t.act.report(dir, now)
		switch {
		case err == nil && lr.N > 0:
			return written, nil // src reached EOF before the chunk was full
		case err == nil:
		case !isTimeout(err):
			return written, strip("splice", err)
		case !writeBy.IsZero() && !time.Now().Before(writeBy):
			return written, ErrIdle // the write stalled: the runtime dropped its pipe
		case n == 0 && t.act.quiet(now):
			return written, ErrIdle
		}
	}
}

// readFromDeadlines returns the read deadline of the next check and a later write deadline,
// idle after it, that a stalled write must not pass.
func (t *tunnel) readFromDeadlines() (readBy, writeBy time.Time) {
	readBy = t.act.checkAt(t.act.now())
	if readBy.IsZero() {
		return readBy, readBy
	}
	return readBy, readBy.Add(time.Duration(t.act.idle))
}
