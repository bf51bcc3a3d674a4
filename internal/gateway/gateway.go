// Package gateway speaks the client side of Sortie's proxy protocols on one port: it sniffs the
// first byte of each connection (0x05 SOCKS5, 0x04 SOCKS4/4a, anything else HTTP) and serves
// HTTP forward requests, CONNECT, SOCKS5 (RFC 1928) and SOCKS4/4a. It implements the protocols
// only: where a connection goes out, and whether it may, arrives through the Dial hook, whose
// refusals (a *refusal.Error) the gateway answers with each protocol's own code.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Kind says how a client asked for a destination.
type Kind uint8

// The kinds of request.
const (
	KindForward Kind = iota + 1 // HTTP absolute-form request
	KindConnect                 // HTTP CONNECT
	KindSOCKS5                  // SOCKS5 CONNECT
	KindSOCKS4                  // SOCKS4 or SOCKS4a CONNECT
)

// String names the kind, for metric labels.
func (k Kind) String() string {
	switch k {
	case KindForward:
		return "forward"
	case KindConnect:
		return "connect"
	case KindSOCKS5:
		return "socks5"
	case KindSOCKS4:
		return "socks4"
	}
	return "unknown"
}

// Target is one destination a client asked for.
type Target struct {
	Host string // a name or an IP literal as the client gave it (IPv6 without brackets)
	Port uint16
	Kind Kind
}

// Protocols is a set of client protocols a listener accepts.
type Protocols uint8

// The protocols. HTTP covers forward requests and CONNECT.
const (
	HTTP Protocols = 1 << iota
	SOCKS4
	SOCKS5
	AllProtocols = HTTP | SOCKS4 | SOCKS5
)

// Defaults for the zero values of Server's fields.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultKeepAliveTimeout = 60 * time.Second
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultMaxHeaderBytes   = 32 << 10
	DefaultMaxConnections   = 4096
	DefaultMaxHandshakes    = 1024
)

// Server serves client connections from any number of listeners. Its exported fields are
// read-only once Serve has been called.
type Server struct {
	// Dial connects to a target. Required. A refusal is returned as a *refusal.Error.
	Dial func(ctx context.Context, t Target) (net.Conn, error)
	// Page answers origin-form HTTP requests (someone browsing to the proxy port). Nil means a
	// small built-in page saying what this port is.
	Page http.Handler
	// HandshakeTimeout bounds the wait for a whole request head or SOCKS handshake.
	HandshakeTimeout time.Duration
	// KeepAliveTimeout bounds the wait for the next request on a kept-alive connection.
	KeepAliveTimeout time.Duration
	// IdleTimeout ends a tunnel or a forward exchange when nothing moved for this long.
	IdleTimeout time.Duration
	// MaxHandshakes caps the connections still in their handshake; past it new connections
	// are closed at once. Zero means DefaultMaxHandshakes.
	MaxHandshakes int
	// MaxClientHandshakes caps the connections one source (an IPv4 address, an IPv6 /64)
	// holds in their handshake; past it its new connections are closed at once. Zero means
	// DefaultMaxClientHandshakes.
	MaxClientHandshakes int
	// MinBodyRate, when positive, is the rate in bytes per second a forward request's body
	// must keep up after its first ten seconds; a slower body ends the request.
	MinBodyRate int
	// MaxHeaderBytes caps an HTTP request head.
	MaxHeaderBytes int
	// MaxConnections caps the client connections served at once over all listeners.
	MaxConnections int
	// Via, when set, is the pseudonym of a Via header on forwarded HTTP messages.
	Via string
	// Logger receives operational events. It never receives client addresses, destinations,
	// URLs, headers or credentials. Nil discards.
	Logger *slog.Logger
	// Admit, when set, is asked about every new connection before its first byte is read:
	// the per-client limits. It returns the connection's context (passed to Dial, carrying
	// who the client is) and a release called when the connection ends. A refusal is
	// answered in the connection's protocol once it is known.
	Admit func(ctx context.Context, c net.Conn) (context.Context, func(), error)
	// Authenticate checks proxy credentials on listeners that require them. It returns the
	// context to use from then on, or a *refusal.Error: Auth (wrong credentials),
	// RateLimited or Capacity. Required when a listener has Auth.
	Authenticate func(ctx context.Context, user, password string) (context.Context, error)
	// Request, when set, is asked before each forward request (the per-client request rate).
	Request func(ctx context.Context) error
	// TunnelDone, when set, is told when a tunnel ends, with its upstream connection (closed)
	// and how long it lived. It is called on one of the relay's goroutines.
	TunnelDone func(ctx context.Context, up net.Conn, lived time.Duration)
	// Panicked, when set, is told that serving a connection panicked (it was recovered).
	Panicked func()
	// Observe, when set, is told the outcome of every request (for metrics).
	Observe func(k Kind, r refusal.Reason, ok bool)
	// Conn, when set, is told with delta +1 which protocol a connection speaks once its first
	// byte is read (0 when none: it ended first, or spoke a protocol the listener refuses),
	// and with delta -1 the same protocol when it ends (for metrics).
	Conn func(p Protocols, delta int)
	// HandshakeFailed, when set, is told why a connection ended before its request was
	// complete (for metrics).
	HandshakeFailed func(f Failure)
	// Dialed, when set, is told about every call to Dial: the target, how long it took and
	// its error. It is the only hook that sees a destination; it must not keep it.
	Dialed func(t Target, took time.Duration, err error)
	// Relayed, when set, is told the bytes a tunnel (when it ends) or a forward request's
	// upstream connection (when it closes) moved: up from the client to the destination,
	// down back (for metrics).
	Relayed func(up, down int64)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closing   bool
	wg        sync.WaitGroup // connection goroutines, and tunnels (each counts once for its two)
	serving   sync.WaitGroup // accept loops
	active    atomic.Int64   // connections being served
	extra     atomic.Int64   // connections past the cap, being refused
	tunnels   atomic.Int64
	shaking   atomic.Int64 // connections in their handshake
	shakers   shakers      // the same, by source
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("gateway: server closed")

// Listen says what one listener accepts.
type Listen struct {
	// Protocols accepted; zero means all.
	Protocols Protocols
	// Auth requires proxy authentication through Authenticate: HTTP Basic (407) and SOCKS5
	// username/password; SOCKS4, which has none, is refused.
	Auth bool
}

// Serve accepts connections on ln, accepting the protocols p, until Shutdown or an accept
// error that is not temporary. Accept errors such as EMFILE back off instead of spinning.
func (s *Server) Serve(ln net.Listener, p Protocols) error {
	return s.ServeListen(ln, Listen{Protocols: p})
}

// ServeListen is Serve with every listener option.
func (s *Server) ServeListen(ln net.Listener, o Listen) error {
	if o.Protocols == 0 {
		o.Protocols = AllProtocols
	}
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.serving.Done()
	defer s.untrack(ln)
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if !isTemporary(err) {
				return err
			}
			backoff = nextBackoff(backoff)
			s.logger().Warn("accept failed; backing off", "error_class", errClass(err), "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.start(c, o)
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

// isTemporary reports accept errors worth retrying: descriptor exhaustion, aborted
// connections and timeouts.
func isTemporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return isResourceError(err)
}

// start serves c in its own goroutine unless the server is shutting down. Past the connection
// cap a connection is still answered "at capacity", while a second, smaller budget lasts.
func (s *Server) start(c net.Conn, o Listen) {
	full := s.active.Add(1) > int64(s.maxConns())
	if full {
		s.active.Add(-1)
		if s.extra.Add(1) > int64(s.maxConns()/8+1) {
			s.extra.Add(-1)
			c.Close()
			return
		}
	}
	s.trackConn(c)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveConn(c, o, full)
	}()
}

func (s *Server) release(full bool) {
	if full {
		s.extra.Add(-1)
	} else {
		s.active.Add(-1)
	}
}

// stackArgs matches the argument words of a stack trace's frames: a port or a length could
// show there, so they are dropped.
var stackArgs = regexp.MustCompile(`(?m)^([^\t\n].*)\([^\n]*\)$`)

// recoverHook, deferred, recovers a panic of a hook called at a connection's end, where no
// handler's recovery is on the stack any more.
func (s *Server) recoverHook() {
	if v := recover(); v != nil {
		s.recovered()
	}
}

// recovered reports a panic recovered while serving one connection: it is logged without the
// panic's value, which could hold what the client sent, and the connection is closed by the
// caller. One connection's bug never ends the process.
func (s *Server) recovered() {
	s.logger().Error("internal failure: a connection handler panicked; the connection was closed",
		"stack", stackArgs.ReplaceAllString(string(debug.Stack()), "${1}(...)"))
	if s.Panicked != nil {
		s.Panicked()
	}
}

// Active returns the number of client connections being served.
func (s *Server) Active() int64 { return s.active.Load() }

// Tunnels returns the number of established tunnels (CONNECT, SOCKS, upgrades).
func (s *Server) Tunnels() int64 { return s.tunnels.Load() }

// Shutdown stops accepting, waits for open connections to finish until ctx is done, then
// closes the remaining ones and waits for their goroutines. Idle keep-alive connections are
// closed at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	// A connection accepted just before its listener closed is still served: wait for the
	// accept loops to end, so that no connection starts after the drain began counting.
	s.serving.Wait()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	s.serving.Add(1)
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

func (s *Server) trackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
}

func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// draining reports whether a kept-alive connection should end after its current exchange.
func (s *Server) draining() bool { return s.isClosing() }

func (s *Server) handshakeTimeout() time.Duration {
	return orDefault(s.HandshakeTimeout, DefaultHandshakeTimeout)
}

func (s *Server) keepAliveTimeout() time.Duration {
	return orDefault(s.KeepAliveTimeout, DefaultKeepAliveTimeout)
}

func (s *Server) idleTimeout() time.Duration { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (s *Server) maxClientHandshakes() int {
	if s.MaxClientHandshakes > 0 {
		return s.MaxClientHandshakes
	}
	return DefaultMaxClientHandshakes
}

func (s *Server) maxHandshakes() int {
	if s.MaxHandshakes > 0 {
		return s.MaxHandshakes
	}
	return DefaultMaxHandshakes
}

func (s *Server) maxConns() int {
	if s.MaxConnections > 0 {
		return s.MaxConnections
	}
	return DefaultMaxConnections
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

func (s *Server) observe(k Kind, err error) {
	if s.Observe != nil {
		s.Observe(k, refusal.ReasonOf(err), err == nil)
	}
}

// observeConn is observe for a request on c, which also reports handshake failures.
func (s *Server) observeConn(c net.Conn, k Kind, err error) {
	s.observe(k, err)
	s.observeFailure(c, err)
}

// parsePort reads a decimal port 1..65535.
func parsePort(s string) (uint16, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// hostOf returns an IP literal without brackets or zone handling (the dial path refuses zones).
func addrHost(a netip.Addr) string { return a.Unmap().String() }
