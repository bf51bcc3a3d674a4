package gateway

import (
	"context"
	"net"
	"time"

	"sortie.dev/sortie/internal/relay"
)

// connEnd is what must happen once when a client connection ends, on whichever goroutine ends
// it: the handshake's, or for a tunnel the relay's that finished last.
type connEnd struct {
	conn    net.Conn  // as tracked for Shutdown
	full    bool      // counted against the budget past MaxConnections, not against it
	release func()    // Admit's, or nil
	proto   Protocols // told to the Conn hook at the end when started
	started bool
}

// endConn does what a connection's end must: the Conn hook, Admit's release, and the counts
// that Shutdown and MaxConnections rely on. A hook that panics is recovered; the counts are
// kept whatever happens.
func (s *Server) endConn(e *connEnd) {
	defer s.release(e.full)
	defer s.untrackConn(e.conn)
	defer s.recoverHook()
	if e.started {
		s.connEnded(e.proto)
	}
	if e.release != nil {
		e.release()
	}
}

// liveTunnel is what an established tunnel keeps for its end, apart from the relay's own
// state: the handshake's goroutine, its buffers and its parsed request are gone by then.
type liveTunnel struct {
	srv   *Server
	end   connEnd
	ctx   context.Context // for TunnelDone; nil when there is none
	up    net.Conn
	start time.Time
}

// startTunnel forwards what the client already sent, then hands both connections to the
// relay, which ends the connection once both directions have finished. The caller returns
// at once: its goroutine, whose stack the handshake grew, ends, and so does everything it
// held (the forwarder, the request head, the handshake buffers).
func (s *Server) startTunnel(cc *clientConn, up net.Conn) {
	cc.SetDeadline(time.Time{})
	up.SetWriteDeadline(time.Now().Add(s.idleTimeout()))
	if err := cc.flushBuffered(up); err != nil {
		up.Close()
		return
	}
	up.SetWriteDeadline(time.Time{})
	cc.handshakeDone()
	cc.releaseWriter() // an idle tunnel holds no handshake buffer
	client := cc.Conn
	// A connection that arrived through a PROXY-protocol front end is relayed as the raw TCP
	// connection underneath once its header is consumed, so that splice still applies.
	if w, ok := client.(interface {
		Unwrap() net.Conn
		Buffered() int
	}); ok && w.Buffered() == 0 {
		client = w.Unwrap()
	}
	t := &liveTunnel{srv: s, end: cc.end, up: up, start: time.Now()}
	if s.TunnelDone != nil {
		t.ctx = cc.ctx
	}
	cc.tunneled = true
	s.tunnels.Add(1)
	s.wg.Add(1) // the relay's goroutines; the handshake's still counts, so this cannot race Wait
	relay.Start(client, up, s.idleTimeout(), t.finish)
}

// finish is called by the relay when both directions have finished and both connections are
// closed: it tells the hooks, then ends the client connection.
func (t *liveTunnel) finish(up, down int64, _ error) {
	s := t.srv
	defer s.wg.Done()
	defer s.endConn(&t.end)
	defer s.recoverHook()
	s.tunnels.Add(-1)
	s.relayed(up, down)
	if s.TunnelDone != nil {
		s.TunnelDone(t.ctx, t.up, time.Since(t.start))
	}
}
