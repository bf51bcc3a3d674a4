package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// handshakeBufSize is the read buffer of a connection until its tunnel is up; it goes back to
// a pool afterwards.
const handshakeBufSize = 4 << 10

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, handshakeBufSize) }}

// clientConn is one client connection during its handshake.
type clientConn struct {
	net.Conn
	lr  io.LimitedReader // bounds how much a request head may read
	br  *bufio.Reader    // reads through lr; nil once released
	srv *Server
	ctx context.Context // carries who the client is, for Dial
	// early is set when the connection is refused before its request is read: past the
	// connection cap, or by Admit. It is answered in the protocol and the connection closed.
	early *refusal.Error
	auth  bool // the listener requires proxy authentication
	// shaking is true while the connection counts against MaxHandshakes, and against its
	// source's share of them.
	shaking bool
	source  netip.Addr
	bw      *bufio.Writer // the HTTP answer buffer, pooled; nil for SOCKS and once released
	end     connEnd       // what the connection's end must do
	// tunneled is set once the connection was handed to the relay, which then ends it: the
	// handshake's goroutine returns without closing or counting it.
	tunneled bool
}

// finish ends the connection when its handshake's goroutine returns, unless it became a
// tunnel: the relay ends that one.
func (cc *clientConn) finish() {
	if !cc.tunneled {
		cc.srv.endConn(&cc.end)
	}
}

// releaseWriter returns the HTTP answer buffer to its pool once nothing more is written
// through it: at the end of the connection, or when its tunnel starts.
func (cc *clientConn) releaseWriter() {
	if cc.bw != nil {
		cc.bw.Reset(nil)
		writerPool.Put(cc.bw)
		cc.bw = nil
	}
}

// handshakeDone stops counting the connection as being in its handshake.
func (cc *clientConn) handshakeDone() {
	if cc.shaking {
		cc.shaking = false
		cc.srv.shaking.Add(-1)
		cc.srv.shakers.leave(cc.source)
	}
}

// serveConn serves one client connection on its own goroutine, which returns when the
// connection ends or, once it became a tunnel, when the relay has taken it over.
func (s *Server) serveConn(c net.Conn, o Listen, full bool) {
	cc := &clientConn{Conn: c, srv: s, ctx: context.Background(), auth: o.Auth, end: connEnd{conn: c, full: full}}
	defer cc.finish()
	source, ok := s.shakers.enter(c.RemoteAddr(), s.maxClientHandshakes())
	if !ok || s.shaking.Add(1) > int64(s.maxHandshakes()) {
		if ok {
			s.shaking.Add(-1)
			s.shakers.leave(source)
		}
		c.Close() // a flood of slow handshakes: nothing is read, nothing is answered
		return
	}
	cc.shaking, cc.source = true, source
	defer cc.handshakeDone()
	switch {
	case full:
		cc.early = refusal.New(refusal.Capacity, "")
	case s.Admit != nil:
		ctx, release, err := s.Admit(cc.ctx, c)
		if err != nil {
			cc.early = refusalOf(err)
		} else {
			cc.ctx, cc.end.release = ctx, release
		}
	}
	cc.lr = io.LimitedReader{R: c, N: int64(s.maxHeaderBytes())}
	cc.br = readerPool.Get().(*bufio.Reader)
	cc.br.Reset(&cc.lr)
	defer func() {
		if v := recover(); v != nil {
			s.recovered()
			c.Close()
			return // the buffer may still be in use: leave it to the collector
		}
		cc.releaseBuffer()
		if !cc.tunneled {
			c.Close()
		}
	}()
	wait := s.handshakeTimeout()
	if cc.early != nil { // refused already: a second to learn how to say so, no more
		wait = min(wait, time.Second)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	first, err := cc.br.Peek(1)
	if err != nil {
		s.connStarted(0)
		s.connEnded(0)
		s.handshakeFailed(c, err)
		return
	}
	proto := sniff(first[0], o.Protocols)
	s.connStarted(proto)
	cc.end.proto, cc.end.started = proto, true
	switch proto {
	case SOCKS5:
		s.serveSOCKS5(cc)
	case SOCKS4:
		s.serveSOCKS4(cc)
	case HTTP:
		s.serveHTTP(cc)
	default:
		if s.HandshakeFailed != nil {
			s.HandshakeFailed(FailMalformed)
		}
	}
}

// sniff returns the protocol a connection's first byte announces, or 0 when the listener
// does not accept it.
func sniff(b byte, p Protocols) Protocols {
	var proto Protocols
	switch b {
	case 0x05:
		proto = SOCKS5
	case 0x04:
		proto = SOCKS4
	default:
		proto = HTTP
	}
	return proto & p
}

// releaseBuffer returns the handshake buffer to the pool.
func (cc *clientConn) releaseBuffer() {
	if cc.br == nil {
		return
	}
	cc.br.Reset(nil)
	readerPool.Put(cc.br)
	cc.br = nil
}

// flushBuffered writes the bytes the client sent after its handshake, already read into the
// buffer, to w, then releases the buffer: from here on the raw connection is relayed.
func (cc *clientConn) flushBuffered(w io.Writer) error {
	n := cc.br.Buffered()
	if n > 0 {
		b, _ := cc.br.Peek(n)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	cc.releaseBuffer()
	return nil
}

// limitHead re-arms the head-size limit before a request head is read.
func (cc *clientConn) limitHead() { cc.lr.N = int64(cc.srv.maxHeaderBytes()) }

// unlimit lifts the head-size limit while a body is read.
func (cc *clientConn) unlimit() { cc.lr.N = 1<<63 - 1 }

// lingerClose closes after a refusal so that the answer is not lost to a reset: it shuts the
// write side, discards what the client still sends for at most a second, then closes.
func lingerClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.CopyN(io.Discard, c, 64<<10)
	}
	c.Close()
}

// isResourceError reports descriptor or memory exhaustion and aborted connections, after
// which accepting again (with a back-off) is the right answer.
func isResourceError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// errClass names an error's class for logs without its text, which may hold addresses.
func errClass(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "descriptors_exhausted"
	case errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.ENOMEM):
		return "memory_exhausted"
	case errors.Is(err, syscall.ECONNABORTED):
		return "connection_aborted"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "other"
}
