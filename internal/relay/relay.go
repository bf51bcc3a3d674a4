// Package relay owns the bidirectional copy of a tunnel: it moves bytes between the client's
// connection and the destination's until both directions have finished, keeps splice(2) between
// two TCP connections, holds a splice pipe only while data is in flight, respects half-close
// and closes tunnels on which no byte moved for the idle timeout. Pipe relays on the caller's
// goroutine and one more; Start relays on two fresh goroutines and returns at once.
package relay

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrIdle is returned by Pipe when no byte moved in either direction for the idle timeout.
var ErrIdle = errors.New("relay: idle timeout")

// Pipe copies a→b and b→a until both directions have finished, then closes both conns and
// returns the byte counts. A direction finishes at EOF (then the other side's write half is
// closed with CloseWrite when the conn supports it, so half-close is respected) or on error
// (then both conns are closed at once). When no byte moves in either direction for idle,
// both are closed (err is ErrIdle). After one direction finished, the other must finish
// within idle too: a half-closed tunnel on which nothing moves for idle is closed. At most one
// extra goroutine is started; none outlives Pipe. An idle of zero or less means no timeout.
//
// Between two *net.TCPConn the bytes move with splice(2); other conns are copied through a
// pooled buffer. Errors carry no address: they are safe to log.
func Pipe(a, b net.Conn, idle time.Duration) (aToB, bToA int64, err error) {
	return pipeWith(a, b, idle, defaultMode, pipes)
}

// Start relays a and b as Pipe does, but on two new goroutines, and returns at once: the
// caller's goroutine, whose stack a handshake may have grown, can end while the tunnel lives,
// and an idle tunnel then holds two small stacks. When both directions have finished, both
// conns are closed and done is called once, on the goroutine that finished last, with what
// Pipe would have returned. Exactly two goroutines are started and neither outlives done.
// A nil done is not called.
func Start(a, b net.Conn, idle time.Duration, done func(aToB, bToA int64, err error)) {
	startWith(a, b, idle, defaultMode, pipes, done)
}

// startWith is Start with the TCP mode and the pipe pool chosen by the caller.
func startWith(a, b net.Conn, idle time.Duration, m mode, pool *pipePool, done func(aToB, bToA int64, err error)) {
	t := newTunnel(a, b, idle, m, pool)
	t.done = done
	t.left.Store(2)
	go t.direction(b, a, 0)
	go t.direction(a, b, 1)
}

// direction runs one direction of a started tunnel; the last one to finish closes both conns
// and calls done.
func (t *tunnel) direction(dst, src net.Conn, dir int) {
	t.n[dir] = t.run(dst, src, dir)
	if t.left.Add(-1) == 0 {
		t.closeBoth()
		if t.done != nil {
			t.done(t.n[0], t.n[1], t.err)
		}
	}
}

// mode is how bytes move between two TCP conns.
type mode uint8

const (
	modeSplice   mode = iota // own splice loop: a pipe only while data is in flight
	modeReadFrom             // TCPConn.ReadFrom: the runtime's splice, a pipe per waiting direction
)

// pipeWith is Pipe with the TCP mode and the pipe pool chosen by the caller.
func pipeWith(a, b net.Conn, idle time.Duration, m mode, pool *pipePool) (aToB, bToA int64, err error) {
	t := newTunnel(a, b, idle, m, pool)
	done := make(chan struct{})
	go func() {
		defer close(done)
		bToA = t.run(a, b, 1)
	}()
	aToB = t.run(b, a, 0)
	<-done
	t.closeBoth()
	return aToB, bToA, t.err
}

// tunnel is the state the two directions of one Pipe share.
type tunnel struct {
	a, b net.Conn
	act  activity
	// spliced is true when both conns are *net.TCPConn.
	spliced bool
	mode    mode
	pipes   *pipePool

	once sync.Once
	err  error // the first failure; written once, read after both directions ended

	// Set by Start only.
	done func(aToB, bToA int64, err error)
	n    [2]int64     // bytes each direction wrote, stored before it counts itself out of left
	left atomic.Int32 // directions still running
}

func newTunnel(a, b net.Conn, idle time.Duration, m mode, pool *pipePool) *tunnel {
	t := &tunnel{a: a, b: b, mode: m, pipes: pool}
	_, ta := a.(*net.TCPConn)
	_, tb := b.(*net.TCPConn)
	t.spliced = ta && tb
	t.act.init(idle, t.spliced && m == modeReadFrom)
	return t
}

// run copies src to dst for direction dir (0 is a→b) and returns the bytes written to dst.
func (t *tunnel) run(dst, src net.Conn, dir int) int64 {
	var n int64
	var err error
	switch {
	case t.spliced && t.mode == modeReadFrom:
		n, err = t.copyReadFrom(dst.(*net.TCPConn), src.(*net.TCPConn), dir)
	case t.spliced:
		n, err = t.copySplice(dst.(*net.TCPConn), src.(*net.TCPConn), dir)
	default:
		n, err = t.copyBuffer(dst, src, dir)
	}
	t.act.finish(dir)
	if err != nil {
		t.fail(err)
		return n
	}
	closeWrite(dst)
	return n
}

// fail records the first failure and closes both conns, which ends the other direction.
func (t *tunnel) fail(err error) {
	t.once.Do(func() {
		t.err = err
		t.closeBoth()
	})
}

func (t *tunnel) closeBoth() {
	t.a.Close()
	t.b.Close()
}

// closeWrite shuts the write half of c when it has one, so the peer sees EOF.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// strip wraps err for the caller without the addresses a *net.OpError carries.
func strip(op string, err error) error {
	if errors.Is(err, ErrIdle) {
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return fmt.Errorf("relay: %s: %w", op, err)
}
