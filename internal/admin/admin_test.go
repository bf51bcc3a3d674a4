//go:build unix

package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/ringlog"
	"sortie.dev/sortie/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs s on ln until the test ends and checks that Serve then returns nil.
func serve(t *testing.T, s *Server, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve() = %v, want nil after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of cancel")
		}
	})
}

// unixClient returns an HTTP client that dials the unix socket at path.
func unixClient(t *testing.T, path string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// socketPath returns a fresh socket path in the test's temporary directory.
func socketPath(t *testing.T) string { return filepath.Join(t.TempDir(), "admin.sock") }

// get performs a GET and returns the status, body and content type.
func get(t *testing.T, c *http.Client, url string, header http.Header) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

// currentUmask reads the process umask.
func currentUmask() int {
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	return old
}

func TestListenUnixMode(t *testing.T) {
	path := socketPath(t)
	umask := currentUmask()
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a socket with 0600", fi.Mode())
	}
	if got := currentUmask(); got != umask {
		t.Errorf("umask after ListenUnix = %#o, want %#o", got, umask)
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, Lstat(socket) = %v, want not exist", err)
	}
}

func TestListenUnixExistingPath(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr string
	}{
		{
			name: "regular file is refused",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "not a socket",
		},
		{
			name: "directory is refused",
			prepare: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "not a socket",
		},
		{
			name: "live socket is refused",
			prepare: func(t *testing.T, path string) {
				ln, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
			},
			wantErr: "in use",
		},
		{
			name: "stale socket is replaced",
			prepare: func(t *testing.T, path string) {
				ln, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				ln.(*net.UnixListener).SetUnlinkOnClose(false)
				ln.Close()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := socketPath(t)
			tt.prepare(t, path)
			ln, err := ListenUnix(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ListenUnix() = %v, want success", err)
				}
				ln.Close()
				return
			}
			if err == nil {
				ln.Close()
				t.Fatalf("ListenUnix() succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ListenUnix() = %v, want error containing %q", err, tt.wantErr)
			}
			if _, err := os.Lstat(path); err != nil {
				t.Errorf("the existing path was removed: %v", err)
			}
		})
	}
}

// testRing returns a ring holding two records.
func testRing() *ringlog.Ring {
	r := ringlog.New(ringlog.Options{TTL: time.Hour})
	log := slog.New(r.Handler())
	log.Info("started", "listeners", 2)
	log.Warn("reloaded")
	return r
}

func TestEndpoints(t *testing.T) {
	notReady := func() (bool, string) { return false, "resolver down" }
	tests := []struct {
		name     string
		server   Server
		path     string
		header   http.Header
		wantCode int
		wantBody string // exact body, unless wantIn is set
		wantIn   []string
		wantType string
	}{
		{name: "healthz", path: "/healthz", wantCode: 200, wantBody: "ok\n", wantType: "text/plain; charset=utf-8"},
		{name: "readyz default", path: "/readyz", wantCode: 200, wantBody: "ready\n"},
		{
			name: "readyz ready with detail", path: "/readyz", wantCode: 200, wantBody: "ready: 2 listeners\n",
			server: Server{Ready: func() (bool, string) { return true, "ready: 2 listeners" }},
		},
		{name: "readyz not ready", server: Server{Ready: notReady}, path: "/readyz", wantCode: 503, wantBody: "resolver down\n"},
		{
			name: "readyz not ready no detail", path: "/readyz", wantCode: 503, wantBody: "not ready\n",
			server: Server{Ready: func() (bool, string) { return false, "" }},
		},
		{name: "ring missing", path: "/debug/ring", wantCode: 404, wantBody: "no ring log\n"},
		{
			name: "ring text", server: Server{Ring: testRing()}, path: "/debug/ring", wantCode: 200,
			wantIn: []string{"level=INFO msg=started listeners=2\n", "level=WARN msg=reloaded\n"}, wantType: "text/plain; charset=utf-8",
		},
		{
			name: "ring json by query", server: Server{Ring: testRing()}, path: "/debug/ring?format=json", wantCode: 200,
			wantIn: []string{`"msg":"started","listeners":2}`, `"msg":"reloaded"}`}, wantType: "application/json",
		},
		{
			name: "ring json by accept", server: Server{Ring: testRing()}, path: "/debug/ring", wantCode: 200,
			header: http.Header{"Accept": {"application/json"}},
			wantIn: []string{`"msg":"reloaded"}`}, wantType: "application/json",
		},
		{
			name: "ring query text beats accept", server: Server{Ring: testRing()}, path: "/debug/ring?format=text", wantCode: 200,
			header: http.Header{"Accept": {"application/json"}},
			wantIn: []string{"msg=reloaded"}, wantType: "text/plain; charset=utf-8",
		},
		{name: "pprof off", path: "/debug/pprof/", wantCode: 404},
		{name: "pprof index", server: Server{Pprof: true}, path: "/debug/pprof/", wantCode: 200, wantIn: []string{"goroutine"}},
		{name: "pprof named profile", server: Server{Pprof: true}, path: "/debug/pprof/goroutine?debug=1", wantCode: 200, wantIn: []string{"goroutine profile"}},
		{name: "pprof cmdline", server: Server{Pprof: true}, path: "/debug/pprof/cmdline", wantCode: 200, wantIn: []string{"admin.test"}},
		{name: "unknown path", path: "/nope", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := socketPath(t)
			ln, err := ListenUnix(path)
			if err != nil {
				t.Fatal(err)
			}
			serve(t, &tt.server, ln)
			code, body, ctype := get(t, unixClient(t, path), "http://admin"+tt.path, tt.header)
			if code != tt.wantCode {
				t.Errorf("status = %d, want %d (body %q)", code, tt.wantCode, body)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(body, w) {
					t.Errorf("body %q does not contain %q", body, w)
				}
			}
			if tt.wantType != "" && ctype != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", ctype, tt.wantType)
			}
		})
	}
}

func TestRingJSONIsValid(t *testing.T) {
	path := socketPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{Ring: testRing()}, ln)
	_, body, _ := get(t, unixClient(t, path), "http://admin/debug/ring?format=json", nil)
	var recs []struct{ Msg string }
	if err := json.Unmarshal([]byte(body), &recs); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if diff := cmp.Diff([]struct{ Msg string }{{Msg: "started"}, {Msg: "reloaded"}}, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// listenTCP listens on a free loopback port.
func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestTCPRequiresToken(t *testing.T) {
	ln := listenTCP(t)
	serve(t, &Server{Token: []byte("s3cret-token")}, ln)
	url := "http://" + ln.Addr().String() + "/healthz"
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{name: "no header", want: 401},
		{name: "wrong token", header: "Bearer nope", want: 401},
		{name: "token prefix", header: "Bearer s3cret", want: 401},
		{name: "token with suffix", header: "Bearer s3cret-token2", want: 401},
		{name: "basic scheme", header: "Basic s3cret-token", want: 401},
		{name: "scheme only", header: "Bearer ", want: 401},
		{name: "right token", header: "Bearer s3cret-token", want: 200},
		{name: "lowercase scheme", header: "bearer s3cret-token", want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			code, body, _ := get(t, c, url, h)
			if code != tt.want {
				t.Errorf("status = %d, want %d (body %q)", code, tt.want, body)
			}
		})
	}
}

func TestTCPWithoutTokenRefusesToStart(t *testing.T) {
	ln := listenTCP(t)
	addr := ln.Addr().String()
	err := (&Server{}).Serve(t.Context(), ln)
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("Serve() = %v, want ErrNoToken", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after Serve refused")
	}
}

func TestServerErrorLogIsScrubbed(t *testing.T) {
	var logs testkit.Buffer
	ln := listenTCP(t)
	s := &Server{
		Token:  []byte("tok"),
		Ready:  func() (bool, string) { panic("boom") },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	serve(t, s, ln)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request to a panicking handler succeeded, want the connection dropped")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "panic serving") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := logs.String()
	if !strings.Contains(got, "http: panic serving [addr]: boom") {
		t.Errorf("error log %q does not contain the scrubbed panic line", got)
	}
	if strings.Contains(got, "127.0.0.1") {
		t.Errorf("error log %q contains the client address", got)
	}
}

func TestFetchRing(t *testing.T) {
	path := socketPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{Ring: testRing()}, ln)
	tests := []struct {
		name string
		json bool
		want string
	}{
		{name: "text", json: false, want: "level=WARN msg=reloaded\n"},
		{name: "json", json: true, want: `"msg":"reloaded"}` + "\n]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := FetchRing(t.Context(), path, tt.json, &buf); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(buf.String(), tt.want) {
				t.Errorf("FetchRing wrote %q, want it to end with %q", buf.String(), tt.want)
			}
		})
	}
}

func TestFetchRingErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone.sock")
	err := FetchRing(t.Context(), missing, false, io.Discard)
	want := "is sortie serve running? admin socket " + missing + " not found"
	if err == nil || err.Error() != want {
		t.Errorf("FetchRing(missing) = %v, want %q", err, want)
	}

	path := socketPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{}, ln) // no ring: 404
	if err := FetchRing(t.Context(), path, false, io.Discard); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("FetchRing(no ring) = %v, want an error naming 404", err)
	}
}
