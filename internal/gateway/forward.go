package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// forwarder relays the forward requests of one client connection. Its upstream connections
// are reused only for this client connection and the same origin, never across clients: a
// shared pool would let a site link two users.
type forwarder struct {
	srv *Server
	cc  *clientConn
	bw  *bufio.Writer
	tr  *http.Transport // made on the first forward request
}

func (f *forwarder) close() {
	if f.tr != nil {
		f.tr.CloseIdleConnections()
	}
}

func (f *forwarder) transport() *http.Transport {
	if f.tr == nil {
		s := f.srv
		f.tr = &http.Transport{
			DialContext:            f.dial,
			DisableCompression:     true,
			MaxIdleConns:           4,
			MaxIdleConnsPerHost:    1,
			IdleConnTimeout:        s.keepAliveTimeout(),
			ResponseHeaderTimeout:  s.idleTimeout(),
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 256 << 10,
			TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
		}
	}
	return f.tr
}

func (f *forwarder) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	port, ok := parsePort(portText)
	if err != nil || !ok {
		return nil, refusal.New(refusal.Malformed, "")
	}
	return f.srv.counted(f.srv.dial(ctx, Target{Host: host, Port: port, Kind: KindForward}))
}

// forward relays one absolute-form request; it reports whether the client connection may
// carry another request.
func (f *forwarder) forward(h *head) bool {
	s, cc := f.srv, f.cc
	u, err := targetURL(h.target)
	if err != nil {
		s.refuse(cc, f.bw, KindForward, refusalOf(err))
		return false
	}
	if h.wantsUpgrade() {
		f.upgrade(h, u)
		return false
	}
	clientKeep := h.keepAlive() // before the hop-by-hop headers are cleaned away
	if s.Request != nil {
		if err := s.Request(cc.ctx); err != nil {
			s.refuse(cc, f.bw, KindForward, refusalOf(err))
			return false
		}
	}
	ctx, cancel := context.WithCancel(cc.ctx)
	defer cancel()
	watch := newWatchdog(s.idleTimeout(), cancel)
	defer watch.stop()
	body := f.requestBody(h, watch)
	out := f.outgoing(ctx, h, u, body)
	resp, err := f.transport().RoundTrip(out)
	if err != nil {
		if body != nil {
			body.detach(cc.Conn)
		}
		s.refuse(cc, f.bw, KindForward, upstreamError(err, ctx))
		return false
	}
	defer resp.Body.Close()
	s.observe(KindForward, nil)
	keep := clientKeep && !s.draining()
	if body != nil {
		body.startResponse()
	}
	keep, err = f.writeResponse(h, resp, keep, watch)
	if body != nil && !body.detach(cc.Conn) {
		keep = false // the request body was not read to its end: the stream cannot resume
	}
	return keep && err == nil
}

// targetURL checks an absolute-form target: http only, a host, a valid port, no userinfo.
func targetURL(target string) (*url.URL, error) {
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Host == "" {
		return nil, refusal.New(refusal.Malformed, "The request target must be an absolute http:// URL.")
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return nil, refusal.New(refusal.Malformed, "Only http:// URLs are forwarded; use CONNECT for https.")
	}
	u.Scheme = "http"
	u.User = nil
	if p := u.Port(); p != "" {
		if _, ok := parsePort(p); !ok {
			return nil, refusal.New(refusal.Malformed, "The port is not valid.")
		}
	}
	return u, nil
}

// outgoing builds the request sent upstream: hop-by-hop and identifying headers removed,
// Host rebuilt from the target, nothing added that names the client.
func (f *forwarder) outgoing(ctx context.Context, h *head, u *url.URL, body *bodyReader) *http.Request {
	hd := h.header
	cleanHeader(hd, false)
	if _, ok := hd["User-Agent"]; !ok {
		hd["User-Agent"] = []string{""} // send none rather than Go's own
	}
	if f.srv.Via != "" {
		hd.Add("Via", "1.1 "+f.srv.Via)
	}
	out := &http.Request{
		Method:     h.method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     hd,
		Host:       u.Host,
		Body:       http.NoBody,
	}
	if body != nil {
		out.Body = body
		out.ContentLength = h.contentLength
	}
	return out.WithContext(ctx)
}

// hopHeaders are removed from every forwarded message, with every header Connection names.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
	"Content-Length", "X-Accept-Encoding",
}

// cleanHeader removes hop-by-hop headers and I2P's identifying headers. With keepUpgrade the
// Connection: upgrade and Upgrade headers of a protocol switch stay.
func cleanHeader(hd http.Header, keepUpgrade bool) {
	upgrade := hd.Get("Upgrade")
	for _, v := range hd["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				hd.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		delete(hd, name)
	}
	for name := range hd {
		if strings.HasPrefix(name, "X-I2p-") {
			delete(hd, name)
		}
	}
	if keepUpgrade && upgrade != "" {
		hd.Set("Connection", "Upgrade")
		hd.Set("Upgrade", upgrade)
	}
}

// upstreamError turns a round-trip failure into a refusal: the dial's own refusal when there
// is one, a timeout when the idle watchdog fired, else a bad gateway.
func upstreamError(err error, ctx context.Context) *refusal.Error {
	if e := refusal.As(err); e != nil {
		return e
	}
	var ne net.Error
	if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return refusal.Wrap(refusal.DialTimeout, "The destination did not answer in time.", err)
	}
	return refusal.Wrap(refusal.UpstreamFailure, "The destination sent no valid answer.", err)
}

// requestBody wraps the client's request body, or returns nil when there is none.
func (f *forwarder) requestBody(h *head, watch *watchdog) *bodyReader {
	var r io.Reader
	switch {
	case h.chunked:
		r = &chunkedBody{r: httputil.NewChunkedReader(f.cc.br), cc: f.cc}
	case h.contentLength > 0:
		r = io.LimitReader(f.cc.br, h.contentLength)
	default:
		return nil
	}
	b := &bodyReader{r: r, conn: f.cc.Conn, watch: watch, idle: f.srv.idleTimeout(),
		minRate: f.srv.MinBodyRate}
	b.expect = strings.EqualFold(h.header.Get("Expect"), "100-continue")
	return b
}

// bodyReader is a request body read by the upstream transport in its own goroutine. detach
// stops it from ever touching the client's buffer again, so that the buffer can serve the next
// request or go back to its pool.
type bodyReader struct {
	mu       sync.Mutex
	r        io.Reader
	conn     net.Conn
	watch    *watchdog
	idle     time.Duration
	minRate  int       // bytes per second a body must keep up after bodyGrace; 0: none
	start    time.Time // the first read
	total    int64     // bytes read so far
	expect   bool      // send "100 Continue" before the first read
	started  bool      // the response head has been written: no 100 any more
	eof      bool
	detached bool
}

var errDetached = errors.New("request body no longer readable")

func (b *bodyReader) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached || b.started && b.expect {
		return 0, errDetached
	}
	if b.expect {
		b.expect = false
		b.conn.SetWriteDeadline(time.Now().Add(b.idle))
		if _, err := io.WriteString(b.conn, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return 0, err
		}
	}
	b.conn.SetReadDeadline(b.deadline())
	n, err := b.r.Read(p)
	b.total += int64(n)
	if n > 0 {
		b.watch.poke()
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// bodyGrace is how long a request body may start slowly before its minimum rate applies. A
// variable for tests only.
var bodyGrace = 10 * time.Second

// deadline is when the next read must have returned: after the idle time, or earlier when
// the body would fall below its minimum rate (a slowloris sending a byte now and then).
func (b *bodyReader) deadline() time.Time {
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	d := now.Add(b.idle)
	if b.minRate > 0 {
		due := b.start.Add(bodyGrace + time.Duration(float64(b.total)/float64(b.minRate)*float64(time.Second)))
		if due.Before(d) {
			d = due
		}
	}
	return d
}

// Close does nothing: the client connection outlives the request.
func (b *bodyReader) Close() error { return nil }

// startResponse records that the response head is about to be written.
func (b *bodyReader) startResponse() {
	b.mu.Lock()
	b.started = true
	b.mu.Unlock()
}

// detach interrupts a pending read, forbids further ones and reports whether the body had
// been read to its end.
func (b *bodyReader) detach(c net.Conn) bool {
	c.SetReadDeadline(time.Now())
	b.mu.Lock()
	defer b.mu.Unlock()
	b.detached = true
	return b.eof
}

// watchdog cancels an exchange when nothing has moved for its idle time.
type watchdog struct {
	t    *time.Timer
	idle time.Duration
}

func newWatchdog(idle time.Duration, cancel func()) *watchdog {
	return &watchdog{t: time.AfterFunc(idle, cancel), idle: idle}
}

func (w *watchdog) poke() { w.t.Reset(w.idle) }
func (w *watchdog) stop() { w.t.Stop() }

// writeResponse writes the upstream response to the client, re-framed: a known length as
// Content-Length, an unknown one chunked (HTTP/1.1 clients) or delimited by close.
func (f *forwarder) writeResponse(h *head, resp *http.Response, keep bool, watch *watchdog) (bool, error) {
	bw := f.bw
	length := resp.ContentLength
	cleanHeader(resp.Header, false)
	bodyless := h.method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.StatusCode < 200
	chunked := false
	switch {
	case bodyless:
		if length >= 0 && resp.StatusCode != http.StatusNoContent {
			resp.Header.Set("Content-Length", strconv.FormatInt(length, 10))
		}
	case length >= 0:
		resp.Header.Set("Content-Length", strconv.FormatInt(length, 10))
	case h.minor >= 1 && keep:
		resp.Header.Set("Transfer-Encoding", "chunked")
		chunked = true
	default:
		keep = false
	}
	if !keep {
		resp.Header.Set("Connection", "close")
	}
	if f.srv.Via != "" {
		resp.Header.Add("Via", "1.1 "+f.srv.Via)
	}
	f.cc.SetWriteDeadline(time.Now().Add(f.srv.idleTimeout()))
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(resp.Status)
	bw.WriteString("\r\n")
	resp.Header.Write(bw)
	bw.WriteString("\r\n")
	if bodyless {
		return keep, bw.Flush()
	}
	return keep, f.copyBody(resp.Body, chunked, watch)
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyBody streams a response body to the client, flushing as it arrives.
func (f *forwarder) copyBody(body io.Reader, chunked bool, watch *watchdog) error {
	var w io.Writer = f.bw
	var cw io.WriteCloser
	if chunked {
		cw = httputil.NewChunkedWriter(f.bw)
		w = cw
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	for {
		n, rerr := body.Read(*bp)
		if n > 0 {
			watch.poke()
			f.cc.SetWriteDeadline(time.Now().Add(f.srv.idleTimeout()))
			if _, err := w.Write((*bp)[:n]); err != nil {
				return err
			}
			if err := f.bw.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if cw != nil {
		cw.Close()
		f.bw.WriteString("\r\n")
	}
	return f.bw.Flush()
}

// chunkedBody reads a chunked request body and, at its end, the trailer section, which is
// dropped: the next request starts after it.
type chunkedBody struct {
	r  io.Reader
	cc *clientConn
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cc.limitHead()
		_, terr := textproto.NewReader(c.cc.br).ReadMIMEHeader()
		c.cc.unlimit()
		if terr != nil {
			return n, terr
		}
	}
	return n, err
}
