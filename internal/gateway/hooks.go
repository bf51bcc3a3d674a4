package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Failure names why a connection ended before its request was complete, for metrics.
type Failure uint8

// The handshake failures.
const (
	FailTimeout   Failure = iota + 1 // the client was too slow (the handshake timeout)
	FailTLS                          // the TLS handshake of an HTTPS proxy port failed
	FailMalformed                    // the request or handshake could not be parsed
	FailClosed                       // the client went away before its request was complete
)

// String names the failure, for metric labels.
func (f Failure) String() string {
	switch f {
	case FailTimeout:
		return "timeout"
	case FailTLS:
		return "tls"
	case FailMalformed:
		return "malformed"
	case FailClosed:
		return "closed"
	}
	return "unknown"
}

// Failures returns every Failure, for metrics that pre-create their series.
func Failures() []Failure { return []Failure{FailTimeout, FailTLS, FailMalformed, FailClosed} }

// failureOf classifies the error that ended a handshake on c.
func failureOf(c net.Conn, err error) Failure {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return FailTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return FailClosed
	}
	if isTLSFailure(c, err) {
		return FailTLS
	}
	return FailMalformed
}

// isTLSFailure reports a failed TLS handshake: a record that is not TLS, an alert, or one of
// crypto/tls's own errors (they start with "tls: ") on a TLS connection.
func isTLSFailure(c net.Conn, err error) bool {
	var rhe tls.RecordHeaderError
	var ae tls.AlertError
	if errors.As(err, &rhe) || errors.As(err, &ae) {
		return true
	}
	_, isTLS := c.(*tls.Conn)
	return isTLS && strings.HasPrefix(err.Error(), "tls: ")
}

// connStarted tells the Conn hook that a connection speaks p (0: none).
func (s *Server) connStarted(p Protocols) {
	if s.Conn != nil {
		s.Conn(p, 1)
	}
}

// connEnded tells the Conn hook that a connection that spoke p has ended.
func (s *Server) connEnded(p Protocols) {
	if s.Conn != nil {
		s.Conn(p, -1)
	}
}

// handshakeFailed tells the HandshakeFailed hook why a connection ended early.
func (s *Server) handshakeFailed(c net.Conn, err error) {
	if s.HandshakeFailed != nil {
		s.HandshakeFailed(failureOf(c, err))
	}
}

// dial calls Dial and tells the Dialed hook how it went.
func (s *Server) dial(ctx context.Context, t Target) (net.Conn, error) {
	if s.Dialed == nil {
		return s.Dial(ctx, t)
	}
	start := time.Now()
	c, err := s.Dial(ctx, t)
	s.Dialed(t, time.Since(start), err)
	return c, err
}

// relayed tells the Relayed hook the bytes an exchange moved.
func (s *Server) relayed(up, down int64) {
	if s.Relayed != nil && (up > 0 || down > 0) {
		s.Relayed(up, down)
	}
}

// countConn counts the bytes of a forward request's upstream connection and reports them to
// the Relayed hook when it is closed. Forwarded HTTP is copied through buffers anyway, so
// counting costs no splice.
type countConn struct {
	net.Conn
	srv      *Server
	up, down atomic.Int64
	once     sync.Once
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.down.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.up.Add(int64(n))
	return n, err
}

func (c *countConn) Close() error {
	c.once.Do(func() { c.srv.relayed(c.up.Load(), c.down.Load()) })
	return c.Conn.Close()
}

// counted wraps a forward request's upstream connection when bytes are being counted.
func (s *Server) counted(c net.Conn, err error) (net.Conn, error) {
	if err != nil || s.Relayed == nil {
		return c, err
	}
	return &countConn{Conn: c, srv: s}, nil
}

// observeFailure reports a malformed or cut-short handshake to HandshakeFailed.
func (s *Server) observeFailure(c net.Conn, err error) {
	if s.HandshakeFailed == nil || refusal.ReasonOf(err) != refusal.Malformed {
		return
	}
	cause := errors.Unwrap(err)
	if cause == nil {
		s.HandshakeFailed(FailMalformed)
		return
	}
	s.HandshakeFailed(failureOf(c, cause))
}
