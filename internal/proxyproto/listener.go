package proxyproto

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultHeaderTimeout bounds the wait for a PROXY header when Config.HeaderTimeout is zero.
// HAProxy sends the header at once with the connection, so the bound can be short.
const DefaultHeaderTimeout = 3 * time.Second

// Untrusted says what a listener does with a connection whose peer is not a trusted proxy.
type Untrusted uint8

// The choices.
const (
	// Reject closes the connection at once, before reading a byte: a listener behind a front
	// end is reached only through it. The default.
	Reject Untrusted = iota
	// Direct serves the connection as it is, as a client connecting directly: no header is
	// read (a header sent anyway is the client's own bytes, and a malformed request).
	Direct
)

// Outcome says how a connection's PROXY handshake went, for metrics.
type Outcome uint8

// The outcomes.
const (
	OutcomeProxied   Outcome = iota + 1 // a header gave the client's address
	OutcomeLocal                        // a LOCAL / UNKNOWN header: the front end itself
	OutcomeUntrusted                    // the peer is not a trusted proxy (rejected or served directly)
	OutcomeFailed                       // the header was missing, malformed, late or cut
)

// String names the outcome, for metric labels.
func (o Outcome) String() string {
	switch o {
	case OutcomeProxied:
		return "proxied"
	case OutcomeLocal:
		return "local"
	case OutcomeUntrusted:
		return "untrusted"
	case OutcomeFailed:
		return "failed"
	}
	return "unknown"
}

// Config says whom a listener trusts and how long it waits for a header.
type Config struct {
	// Trusted lists the front ends' addresses; it must not be empty. Only their connections
	// are read for a header, and they must send one.
	Trusted []netip.Prefix
	// Untrusted is what happens to other connections; the zero value is Reject.
	Untrusted Untrusted
	// HeaderTimeout bounds the wait for the header; zero means DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// Observe, when set, is told the outcome of each connection's handshake. It never
	// receives an address.
	Observe func(Outcome)
}

// Listener wraps a TCP listener whose trusted peers send a PROXY header first.
type Listener struct {
	net.Listener
	cfg Config
}

// NewListener wraps ln. It fails when cfg trusts nobody.
func NewListener(ln net.Listener, cfg Config) (*Listener, error) {
	if len(cfg.Trusted) == 0 {
		return nil, errors.New("proxyproto: no trusted proxies")
	}
	for _, p := range cfg.Trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("proxyproto: invalid trusted prefix")
		}
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	return &Listener{Listener: ln, cfg: cfg}, nil
}

// Accept returns the next connection: a *Conn from a trusted proxy (its header is read on
// first use, in the caller's goroutine, not here), the connection itself from an untrusted
// peer under Direct. Untrusted peers under Reject are closed and Accept waits for the next
// connection; no I/O happens in Accept.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.trusted(c.RemoteAddr()) {
			return &Conn{Conn: c, timeout: l.cfg.HeaderTimeout, observe: l.cfg.Observe}, nil
		}
		l.observe(OutcomeUntrusted)
		if l.cfg.Untrusted == Direct {
			return c, nil
		}
		c.Close()
	}
}

func (l *Listener) observe(o Outcome) {
	if l.cfg.Observe != nil {
		l.cfg.Observe(o)
	}
}

func (l *Listener) trusted(a net.Addr) bool {
	ap, ok := addrPort(a)
	if !ok {
		return false
	}
	for _, p := range l.cfg.Trusted {
		if p.Contains(ap.Addr()) {
			return true
		}
	}
	return false
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// Conn is a connection from a trusted proxy. Its header is read on the first Read,
// RemoteAddr or Handshake, within the header timeout (or the read deadline set before, if
// sooner). Then RemoteAddr is the client's address and Read returns the client's bytes.
type Conn struct {
	net.Conn
	timeout time.Duration
	observe func(Outcome)

	once   sync.Once
	hdr    Header
	err    error
	rest   []byte // bytes read past a v1 header, served first
	mu     sync.Mutex
	rdline time.Time // the read deadline the caller set
}

// Handshake reads the header if it was not read yet, and returns its error (the same on
// every call). A connection whose handshake failed should be closed.
func (c *Conn) Handshake() error {
	c.once.Do(func() {
		c.err = c.readHeader()
		if c.observe != nil {
			c.observe(c.outcome())
		}
	})
	return c.err
}

func (c *Conn) outcome() Outcome {
	switch {
	case c.err != nil:
		return OutcomeFailed
	case c.hdr.Local:
		return OutcomeLocal
	}
	return OutcomeProxied
}

// Header returns the parsed header after a successful Handshake.
func (c *Conn) Header() (Header, error) {
	err := c.Handshake()
	return c.hdr, err
}

// Read reads the header first, then the bytes read past it, then the connection.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if len(c.rest) > 0 {
		n := copy(b, c.rest)
		c.rest = c.rest[n:]
		if len(c.rest) == 0 {
			c.rest = nil
		}
		return n, nil
	}
	return c.Conn.Read(b)
}

// RemoteAddr returns the client's address from the header; the proxy's own address for a
// LOCAL header or a failed handshake. It reads the header first if needed.
func (c *Conn) RemoteAddr() net.Addr {
	if c.Handshake() != nil || c.hdr.Local {
		return c.Conn.RemoteAddr()
	}
	return net.TCPAddrFromAddrPort(c.hdr.Source)
}

// SetDeadline sets both deadlines; the read deadline also bounds the header's wait.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline; it also bounds the header's wait.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

// CloseWrite shuts the write half when the underlying connection can (half-close).
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// Unwrap returns the underlying connection (a *net.TCPConn from a TCP listener). Bytes
// Buffered reports must be read through c first.
func (c *Conn) Unwrap() net.Conn { return c.Conn }

// Buffered returns how many bytes read past the header are still to be served by Read.
func (c *Conn) Buffered() int { return len(c.rest) }

// Raw returns the connection to relay for c: the underlying connection when c is a *Conn
// whose handshake is done and whose extra bytes are all consumed (so splice(2) applies), c
// itself otherwise.
func Raw(c net.Conn) net.Conn {
	pc, ok := c.(*Conn)
	if !ok || pc.Handshake() != nil || pc.Buffered() > 0 {
		return c
	}
	return pc.Conn
}

// readHeader reads a v1 or v2 header within the timeout, then restores the caller's deadline.
func (c *Conn) readHeader() error {
	c.mu.Lock()
	user := c.rdline
	c.mu.Unlock()
	dl := time.Now().Add(c.timeout)
	if !user.IsZero() && user.Before(dl) {
		dl = user
	}
	c.Conn.SetReadDeadline(dl)
	err := c.readHeaderBytes()
	c.mu.Lock()
	c.Conn.SetReadDeadline(c.rdline)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("proxyproto: reading the header: %w", err)
	}
	return nil
}

func (c *Conn) readHeaderBytes() error {
	var fixed [v2FixedLen]byte
	if _, err := io.ReadFull(c.Conn, fixed[:12]); err != nil {
		return err
	}
	switch {
	case string(fixed[:12]) == string(v2Sig):
		return c.readV2(fixed)
	case string(fixed[:len(v1Prefix)]) == string(v1Prefix):
		return c.readV1(fixed[:12])
	}
	return ErrNoHeader
}

func (c *Conn) readV2(fixed [v2FixedLen]byte) error {
	if _, err := io.ReadFull(c.Conn, fixed[12:]); err != nil {
		return err
	}
	n, err := v2Length(fixed[:])
	if err != nil {
		return err
	}
	block := make([]byte, n)
	if _, err := io.ReadFull(c.Conn, block); err != nil {
		return err
	}
	c.hdr, err = parseV2(fixed[:], block)
	return err
}

// readV1 reads up to the CRLF that ends a v1 line; bytes read past it are kept in rest.
func (c *Conn) readV1(start []byte) error {
	buf := make([]byte, 0, 2*v1MaxLen)
	buf = append(buf, start...)
	for {
		if i := bytesIndexCRLF(buf); i >= 0 {
			h, err := parseV1(buf[:i+2])
			if err != nil {
				return err
			}
			c.hdr = h
			if rest := buf[i+2:]; len(rest) > 0 {
				c.rest = rest
			}
			return nil
		}
		if len(buf) >= v1MaxLen {
			return ErrTooLong
		}
		n, err := c.Conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil && bytesIndexCRLF(buf) < 0 {
			return err
		}
	}
}

func bytesIndexCRLF(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return i
		}
	}
	return -1
}
