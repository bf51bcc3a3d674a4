package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// serveHTTP serves HTTP requests on a connection: forward requests until the client or the
// gateway ends the keep-alive, or one CONNECT, after which the connection is a tunnel.
func (s *Server) serveHTTP(cc *clientConn) {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(cc.Conn)
	cc.bw = bw
	defer cc.releaseWriter()
	fw := &forwarder{srv: s, cc: cc, bw: bw}
	defer fw.close()
	for first := true; ; first = false {
		if !first && !s.awaitNext(cc) {
			return
		}
		cc.SetReadDeadline(time.Now().Add(s.handshakeTimeout()))
		cc.limitHead()
		h, err := readHead(cc.br)
		if err != nil {
			s.badRequest(cc, bw, err)
			return
		}
		cc.unlimit()
		cc.handshakeDone()
		if !s.serveRequest(cc, bw, fw, h) {
			return
		}
	}
}

// awaitNext waits for the first byte of the next request on a kept-alive connection.
func (s *Server) awaitNext(cc *clientConn) bool {
	if s.draining() {
		return false
	}
	cc.SetReadDeadline(time.Now().Add(s.keepAliveTimeout()))
	_, err := cc.br.Peek(1)
	return err == nil && !s.draining()
}

// serveRequest answers one request; it reports whether the connection may carry another.
func (s *Server) serveRequest(cc *clientConn, bw *bufio.Writer, fw *forwarder, h *head) bool {
	switch {
	case cc.early != nil:
		s.refuse(cc, bw, KindForward, cc.early)
		return false
	case h.target == "*" || (len(h.target) > 0 && h.target[0] == '/'):
		return s.servePage(cc, bw, h)
	case !s.authenticateHTTP(cc, h):
		s.refuse(cc, bw, kindOf(h), cc.early)
		return false
	case h.method == http.MethodConnect:
		s.connect(cc, bw, h)
		return false
	case h.method == "TRACE":
		s.refuseStatus(cc, bw, KindForward, http.StatusMethodNotAllowed, refusal.New(refusal.Unsupported, "TRACE is not allowed."))
		return false
	case !knownMethods[h.method]:
		s.refuse(cc, bw, KindForward, refusal.New(refusal.Unsupported, ""))
		return false
	}
	return fw.forward(h)
}

// badRequest answers a head that could not be read, unless the client simply went away.
func (s *Server) badRequest(cc *clientConn, bw *bufio.Writer, err error) {
	var ne net.Error
	switch {
	case cc.lr.N == 0:
		s.refuseStatus(cc, bw, KindForward, http.StatusRequestHeaderFieldsTooLarge, refusal.New(refusal.Malformed, "The request head is too large."))
	case errors.Is(err, errBadEncoding):
		s.refuse(cc, bw, KindForward, refusal.New(refusal.Unsupported, "This transfer encoding is not supported."))
	case errors.Is(err, errBadVersion):
		s.refuseStatus(cc, bw, KindForward, http.StatusHTTPVersionNotSupported, refusal.New(refusal.Malformed, "Only HTTP/1.0 and HTTP/1.1 are supported."))
	case errors.As(err, &ne) || isEOF(err):
		s.observeConn(cc.Conn, KindForward, refusal.Wrap(refusal.Malformed, "", err))
	default:
		s.refuse(cc, bw, KindForward, refusal.Wrap(refusal.Malformed, "", err))
	}
}

// refuse answers a refusal with its protocol status and closes gracefully.
func (s *Server) refuse(cc *clientConn, bw *bufio.Writer, k Kind, e *refusal.Error) {
	s.refuseStatus(cc, bw, k, answerFor(e.Reason).status, e)
}

func (s *Server) refuseStatus(cc *clientConn, bw *bufio.Writer, k Kind, status int, e *refusal.Error) {
	s.observeConn(cc.Conn, k, e)
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	writeAnswer(bw, status, e, s.Via)
	lingerClose(cc.Conn)
}

// connect serves a CONNECT request: dial, answer 200, then relay the raw connections.
func (s *Server) connect(cc *clientConn, bw *bufio.Writer, h *head) {
	host, portText, err := net.SplitHostPort(h.target)
	port, ok := parsePort(portText)
	if err != nil || !ok || host == "" {
		s.refuse(cc, bw, KindConnect, refusal.New(refusal.Malformed, "CONNECT needs host:port."))
		return
	}
	ctx, cancel := context.WithCancel(cc.ctx)
	defer cancel()
	up, err := s.dial(ctx, Target{Host: host, Port: port, Kind: KindConnect})
	if err != nil {
		s.refuse(cc, bw, KindConnect, refusalOf(err))
		return
	}
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	bw.WriteString("HTTP/1.1 200 Connection established\r\n")
	if s.Via != "" {
		bw.WriteString("Via: 1.1 " + s.Via + "\r\n")
	}
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		up.Close()
		return
	}
	s.observe(KindConnect, nil)
	s.startTunnel(cc, up)
}

// servePage answers an origin-form request (someone browsing to the proxy port) with Page.
func (s *Server) servePage(cc *clientConn, bw *bufio.Writer, h *head) bool {
	if h.contentLength != 0 {
		// A body to the page handler is never expected; refuse rather than resynchronise.
		s.refuse(cc, bw, KindForward, refusal.New(refusal.Malformed, ""))
		return false
	}
	req, err := http.NewRequest(h.method, h.target, nil)
	if err != nil {
		s.refuse(cc, bw, KindForward, refusal.Wrap(refusal.Malformed, "", err))
		return false
	}
	req.Header = h.header
	req.Host = h.header.Get("Host")
	rec := &pageRecorder{header: http.Header{}}
	page := s.Page
	if page == nil {
		page = DefaultPage
	}
	page.ServeHTTP(rec, req)
	keep := h.keepAlive()
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	if rec.write(bw, h.method == http.MethodHead, keep) != nil {
		return false
	}
	return keep
}

// pageRecorder collects a page handler's response so that it can be written with a length.
type pageRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *pageRecorder) Header() http.Header { return r.header }

func (r *pageRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *pageRecorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.body.Len()+len(p) > 4<<20 {
		return 0, errors.New("page too large")
	}
	return r.body.Write(p)
}

func (r *pageRecorder) write(bw *bufio.Writer, headOnly, keep bool) error {
	r.WriteHeader(http.StatusOK)
	r.header.Set("Content-Length", strconv.Itoa(r.body.Len()))
	if !keep {
		r.header.Set("Connection", "close")
	}
	writeStatusLine(bw, r.status)
	r.header.Write(bw)
	bw.WriteString("\r\n")
	if !headOnly {
		bw.Write(r.body.Bytes())
	}
	return bw.Flush()
}

// DefaultPage is the small page a browser on a proxy port gets when no Page is configured: it
// says what the port is.
var DefaultPage http.Handler = http.HandlerFunc(defaultPage)

func defaultPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.URL.Path != "/" {
		w.WriteHeader(http.StatusNotFound)
	}
	w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sortie exit gateway</title></head>
<body><h1>This is a proxy port</h1>
<p>This port belongs to an exit gateway run with Sortie. It is not a web site: configure it
as an HTTP, HTTPS (CONNECT) or SOCKS proxy in your client to use it.</p></body></html>
`))
}
