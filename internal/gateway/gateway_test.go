package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/refusal"
	"sortie.dev/sortie/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a gateway on loopback whose Dial maps test names to loopback servers.
type fixture struct {
	t     *testing.T
	srv   *Server
	addr  string
	names map[string]string // host -> loopback IP
	dials chan Target
}

func newFixture(t *testing.T, configure func(*Server)) *fixture {
	t.Helper()
	return newFixtureWith(t, configure, AllProtocols)
}

func newFixtureWith(t *testing.T, configure func(*Server), p Protocols) *fixture {
	t.Helper()
	return newFixtureWithListen(t, configure, Listen{Protocols: p})
}

func newFixtureWithListen(t *testing.T, configure func(*Server), o Listen) *fixture {
	t.Helper()
	f := &fixture{t: t, names: map[string]string{"origin.test": "127.0.0.1"}, dials: make(chan Target, 100)}
	f.srv = &Server{
		Dial:             f.dial,
		HandshakeTimeout: 2 * time.Second,
		IdleTimeout:      5 * time.Second,
		KeepAliveTimeout: 2 * time.Second,
	}
	if configure != nil {
		configure(f.srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); f.srv.ServeListen(ln, o) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		f.srv.Shutdown(ctx)
		<-done
	})
	return f
}

func (f *fixture) dial(ctx context.Context, t Target) (net.Conn, error) {
	select {
	case f.dials <- t:
	default:
	}
	host := t.Host
	if ip, ok := f.names[host]; ok {
		host = ip
	}
	switch host {
	case "127.0.0.1", "::1":
	case "blocked.test":
		return nil, &refusal.Error{Reason: refusal.Blocked, Block: &refusal.Block{
			ID: "B-1", Reason: "court order 42", Basis: "court order", DecidedBy: "board",
			Decided: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), NoticeURL: "https://exit.example/notice/B-1",
			BlockedBy: "https://exit.example/",
		}}
	case "nx.test":
		return nil, refusal.New(refusal.NXDomain, "")
	default:
		return nil, refusal.New(refusal.Policy, "")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(t.Port))))
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil, refusal.Wrap(refusal.Refused, "", err)
	}
	return c, err
}

// echoHandler answers with what the origin received.
type received struct {
	Method string
	Host   string
	URI    string
	Header http.Header
	Body   string
}

func echoOrigin(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "secret")
		json.NewEncoder(w).Encode(received{r.Method, r.Host, r.RequestURI, r.Header, string(b)})
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, port
}

func (f *fixture) conn() net.Conn {
	f.t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	f.t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes raw bytes and reads one response.
func (f *fixture) roundTrip(c net.Conn, br *bufio.Reader, raw string, method string) *http.Response {
	f.t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		f.t.Fatalf("reading response: %v", err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

func TestForwardStripsAndRebuildsHeaders(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	c := f.conn()
	br := bufio.NewReader(c)
	raw := "GET http://origin.test:" + port + "/p?q=1 HTTP/1.1\r\n" +
		"Host: evil.example\r\n" +
		"Connection: keep-alive, X-Secret\r\n" +
		"X-Secret: 1\r\n" +
		"Proxy-Connection: keep-alive\r\n" +
		"Proxy-Authorization: Basic dTpw\r\n" +
		"X-I2P-DestB32: abc.b32.i2p\r\n" +
		"X-I2P-DestHash: xyz\r\n" +
		"X-Accept-Encoding: x-i2p-gzip\r\n" +
		"Keep-Alive: 300\r\n" +
		"Te: trailers\r\n" +
		"X-Kept: yes\r\n\r\n"
	resp := f.roundTrip(c, br, raw, "GET")
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Hop"); got != "" {
		t.Errorf("response header named by Connection was forwarded: X-Hop=%q", got)
	}
	var got received
	if err := json.Unmarshal([]byte(readBody(t, resp)), &got); err != nil {
		t.Fatal(err)
	}
	if want := "origin.test:" + port; got.Host != want {
		t.Errorf("Host = %q, want %q", got.Host, want)
	}
	if got.URI != "/p?q=1" {
		t.Errorf("request URI = %q, want origin form /p?q=1", got.URI)
	}
	want := http.Header{"X-Kept": {"yes"}}
	if diff := cmp.Diff(want, got.Header); diff != "" {
		t.Errorf("headers at origin (-want +got):\n%s", diff)
	}
}

func TestForwardKeepAliveAndBodies(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	c := f.conn()
	br := bufio.NewReader(c)
	base := "http://origin.test:" + port
	tests := []struct {
		name     string
		raw      string
		wantBody string
	}{
		{name: "content-length", raw: "POST " + base + "/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", wantBody: "hello"},
		{name: "chunked", raw: "POST " + base + "/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", wantBody: "abcde"},
		{name: "no body", raw: "GET " + base + "/c HTTP/1.1\r\nHost: x\r\n\r\n", wantBody: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.roundTrip(c, br, tt.raw, "POST")
			var got received
			if err := json.Unmarshal([]byte(readBody(t, resp)), &got); err != nil {
				t.Fatal(err)
			}
			if got.Body != tt.wantBody {
				t.Errorf("body at origin = %q, want %q", got.Body, tt.wantBody)
			}
		})
	}
	if n := len(f.dials); n != 1 {
		t.Errorf("dials = %d, want 1 (the upstream connection is reused for the same client and origin)", n)
	}
}

func TestForwardExpectContinue(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	c := f.conn()
	br := bufio.NewReader(c)
	io.WriteString(c, "PUT http://origin.test:"+port+"/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("first line = %q, %v; want a 100 Continue", line, err)
	}
	br.ReadString('\n')
	resp := f.roundTrip(c, br, "data", "PUT")
	var got received
	json.Unmarshal([]byte(readBody(t, resp)), &got)
	if got.Body != "data" {
		t.Errorf("body = %q, want data", got.Body)
	}
}

func TestForwardChunkedResponseStreams(t *testing.T) {
	f := newFixture(t, nil)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			io.WriteString(w, "part"+strconv.Itoa(i)+";")
			w.(http.Flusher).Flush()
		}
	}))
	defer origin.Close()
	c := f.conn()
	br := bufio.NewReader(c)
	resp := f.roundTrip(c, br, "GET "+origin.URL+"/ HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if got := resp.TransferEncoding; len(got) != 1 || got[0] != "chunked" {
		t.Errorf("transfer encoding = %v, want chunked", got)
	}
	if got := readBody(t, resp); got != "part0;part1;part2;" {
		t.Errorf("body = %q", got)
	}
	// HTTP/1.0 client: the unknown length is delimited by close.
	c2 := f.conn()
	resp = f.roundTrip(c2, bufio.NewReader(c2), "GET "+origin.URL+"/ HTTP/1.0\r\n\r\n", "GET")
	if got := readBody(t, resp); got != "part0;part1;part2;" || !resp.Close {
		t.Errorf("HTTP/1.0: body = %q, close = %v", got, resp.Close)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	tests := []struct {
		name       string
		raw        string
		wantStatus int
		check      func(t *testing.T, resp *http.Response, body string)
	}{
		{name: "smuggling", raw: "POST http://origin.test:" + port + "/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", wantStatus: 400},
		{name: "two hosts", raw: "GET http://origin.test:" + port + "/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", wantStatus: 400},
		{name: "trace", raw: "TRACE http://origin.test:" + port + "/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 405},
		{name: "unknown method", raw: "BREW http://origin.test:" + port + "/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 501},
		{name: "bad encoding", raw: "POST http://origin.test:" + port + "/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", wantStatus: 501},
		{name: "http2", raw: "GET http://origin.test/ HTTP/2.0\r\n\r\n", wantStatus: 505},
		{name: "garbage", raw: "\x16\x03\x01 hello\r\n\r\n", wantStatus: 400},
		{name: "https via GET", raw: "GET https://origin.test/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 400},
		{name: "connect without port", raw: "CONNECT origin.test HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 400},
		{name: "policy", raw: "GET http://inward.test/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 403},
		{name: "policy connect", raw: "CONNECT inward.test:443 HTTP/1.1\r\n\r\n", wantStatus: 403},
		{name: "nxdomain", raw: "GET http://nx.test/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 502},
		{name: "refused", raw: "GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 502},
		{name: "blocked", raw: "GET http://blocked.test/ HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 451, check: checkBlocked},
		{name: "blocked connect", raw: "CONNECT blocked.test:443 HTTP/1.1\r\n\r\n", wantStatus: 451, check: checkBlocked},
		{name: "too large", raw: "GET http://origin.test/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", wantStatus: 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.conn()
			method := strings.SplitN(tt.raw, " ", 2)[0]
			resp := f.roundTrip(c, bufio.NewReader(c), tt.raw, method)
			body := readBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if strings.Contains(body, "inward.test") || strings.Contains(body, "127.0.0.1") {
				t.Errorf("body names the destination: %q", body)
			}
			if tt.check != nil {
				tt.check(t, resp, body)
			}
		})
	}
}

func checkBlocked(t *testing.T, resp *http.Response, body string) {
	if got, want := resp.Header.Get("Link"), `<https://exit.example/>; rel="blocked-by"`; got != want {
		t.Errorf("Link = %q, want %q", got, want)
	}
	for _, want := range []string{"B-1", "court order 42", "https://exit.example/notice/B-1", "2026-01-02"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestOriginFormPage(t *testing.T) {
	f := newFixture(t, nil)
	c := f.conn()
	br := bufio.NewReader(c)
	resp := f.roundTrip(c, br, "GET / HTTP/1.1\r\nHost: proxy\r\n\r\n", "GET")
	body := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "proxy port") {
		t.Errorf("status %d body %q; want 200 and the proxy page", resp.StatusCode, body)
	}
	resp = f.roundTrip(c, br, "GET /nothing HTTP/1.1\r\nHost: proxy\r\n\r\n", "GET")
	if readBody(t, resp); resp.StatusCode != 404 {
		t.Errorf("status %d, want 404 on the same kept-alive connection", resp.StatusCode)
	}
}

// echoServer accepts connections on loopback and echoes what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestConnectForwardsEarlyBytes(t *testing.T) {
	f := newFixture(t, nil)
	port := echoServer(t)
	c := f.conn()
	br := bufio.NewReader(c)
	// The bytes after the head are what a TLS client sends at once: they must arrive first.
	io.WriteString(c, "CONNECT origin.test:"+port+" HTTP/1.1\r\nHost: origin.test:"+port+"\r\n\r\nEARLY")
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	if resp.ContentLength > 0 || len(resp.TransferEncoding) > 0 {
		t.Errorf("2xx to CONNECT carries framing headers: %v", resp.Header)
	}
	io.WriteString(c, "LATE")
	got := make([]byte, 9)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "EARLYLATE" {
		t.Errorf("echo = %q, %v; want EARLYLATE", got, err)
	}
}

func TestUpgradePassThrough(t *testing.T) {
	f := newFixture(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Header.Get("Upgrade") != "websocket" {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(c, br)
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c := f.conn()
	br := bufio.NewReader(c)
	io.WriteString(c, "GET http://origin.test:"+port+"/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	io.WriteString(c, "ping")
	got := make([]byte, 4)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
		t.Errorf("after upgrade got %q, %v", got, err)
	}
}

func TestCapacity(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxConnections = 1 })
	port := echoServer(t)
	held := f.conn()
	io.WriteString(held, "CONNECT origin.test:"+port+" HTTP/1.1\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(held), &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first tunnel: %v %v", resp, err)
	}
	c := f.conn()
	resp := f.roundTrip(c, bufio.NewReader(c), "CONNECT origin.test:"+port+" HTTP/1.1\r\n\r\n", "CONNECT")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("past the cap: status %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestHandshakeTimeout(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.HandshakeTimeout = 200 * time.Millisecond })
	c := f.conn()
	io.WriteString(c, "GET http://origin.test/ HTTP/1.1\r\n") // and never the rest
	start := time.Now()
	io.Copy(io.Discard, c)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a stalled head held the connection for %v", d)
	}
}

func TestShutdownDrainsThenCloses(t *testing.T) {
	srv := &Server{Dial: (&fixture{names: map[string]string{}, dials: make(chan Target, 10)}).dial}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, AllProtocols) }()
	port := echoServer(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "CONNECT 127.0.0.1:"+port+" HTTP/1.1\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("tunnel: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown with an open tunnel = %v, want the drain deadline", err)
	}
	if err := <-served; err != ErrServerClosed {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still accepts after Shutdown")
	}
}

func TestProxyClientsThroughGateway(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	proxy, _ := url.Parse("http://" + f.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://origin.test:" + port + "/hi")
	if err != nil {
		t.Fatal(err)
	}
	var got received
	json.Unmarshal([]byte(readBody(t, resp)), &got)
	if got.URI != "/hi" {
		t.Errorf("origin saw %q, want /hi", got.URI)
	}
}

func TestForwardConnectionClose(t *testing.T) {
	f := newFixture(t, nil)
	_, port := echoOrigin(t)
	tests := []struct {
		name string
		raw  string
	}{
		{name: "HTTP/1.1 close", raw: "GET http://origin.test:" + port + "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		{name: "HTTP/1.0 default", raw: "GET http://origin.test:" + port + "/ HTTP/1.0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.conn()
			io.WriteString(c, tt.raw)
			all, err := io.ReadAll(c) // ends only if the gateway closes
			if err != nil {
				t.Fatalf("reading until close: %v", err)
			}
			if !strings.Contains(string(all), "Connection: close") {
				t.Errorf("response does not announce the close:\n%s", all)
			}
		})
	}
}

func TestMaxHandshakes(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxHandshakes = 2; s.HandshakeTimeout = 5 * time.Second })
	// Two slow clients hold both handshake slots...
	for range 2 {
		c := f.conn()
		io.WriteString(c, "GET http://origin.test/ HTTP/1.1\r\n")
	}
	time.Sleep(100 * time.Millisecond)
	// ...so a third connection is closed unanswered, without waiting for the timeout.
	c := f.conn()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: p\r\n\r\n")
	start := time.Now()
	b, _ := io.ReadAll(c)
	if len(b) != 0 || time.Since(start) > 2*time.Second {
		t.Errorf("third connection got %q after %v, want a close at once", b, time.Since(start))
	}
}

func TestMinBodyRate(t *testing.T) {
	defer func(g time.Duration) { bodyGrace = g }(bodyGrace)
	bodyGrace = 200 * time.Millisecond
	f := newFixture(t, func(s *Server) { s.MinBodyRate = 1000 })
	_, port := echoOrigin(t)
	c := f.conn()
	io.WriteString(c, "POST http://origin.test:"+port+"/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nab")
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "POST"})
	took := time.Since(start)
	if err == nil {
		readBody(t, resp)
		if resp.StatusCode == 200 {
			t.Fatalf("a body stalled after 2 bytes was forwarded whole")
		}
	}
	if took > 3*time.Second {
		t.Errorf("a stalled body held the request for %v; the minimum rate should end it within about a second", took)
	}
}

func TestPanickingHandlerIsRecovered(t *testing.T) {
	logs := &testkit.Buffer{}
	var panics atomic.Int32
	f := newFixture(t, func(s *Server) {
		s.Page = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom from " + "secret-path") })
		s.Logger = slog.New(slog.NewTextHandler(logs, nil))
		s.Panicked = func() { panics.Add(1) }
	})
	c := f.conn()
	io.WriteString(c, "GET /secret-path HTTP/1.1\r\nHost: p\r\n\r\n")
	io.ReadAll(c)
	// The server still serves.
	c2 := f.conn()
	io.WriteString(c2, "CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(c2), &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 502 {
		t.Errorf("after a panic: %v %v", resp, err)
	}
	if panics.Load() != 1 {
		t.Errorf("Panicked called %d times, want 1", panics.Load())
	}
	out := logs.String()
	if !strings.Contains(out, "panicked") || strings.Contains(out, "secret-path") || strings.Contains(out, "127.0.0.1") ||
		regexp.MustCompile(`\(0x[0-9a-f]+`).MatchString(out) {
		t.Errorf("log after a panic: %q", out)
	}
}

func TestMaxClientHandshakes(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.MaxClientHandshakes = 2; s.HandshakeTimeout = 5 * time.Second })
	for range 2 { // one source holds its two slots with slow heads...
		c := f.conn()
		io.WriteString(c, "GET http://origin.test/ HTTP/1.1\r\n")
	}
	time.Sleep(100 * time.Millisecond)
	c := f.conn() // ...so its third connection is closed at once...
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: p\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("the source's third handshake got %q, want a close", b)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	other, err := d.Dial("tcp", f.addr) // ...while another source is served.
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(other, "GET / HTTP/1.1\r\nHost: p\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(other), nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("another source: %v %v", resp, err)
	}
}
