// Package admin owns Sortie's admin HTTP endpoint: health and readiness probes, the ring log
// read-out and, when enabled, pprof. It listens on a unix socket (mode 0600) by default; on TCP
// every request must carry a bearer token. It also holds the client side used by `sortie ring`.
// It is operations code: it must not import database/sql.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"sortie.dev/sortie/internal/ringlog"
	"sortie.dev/sortie/internal/scrub"
)

// Timeouts of the admin HTTP server. The write timeout leaves room for a 60 s CPU profile.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = time.Minute
	shutdownTimeout   = 5 * time.Second
	maxHeaderBytes    = 16 << 10
)

// ErrNoToken is returned by Serve for a TCP listener when Server.Token is empty.
var ErrNoToken = errors.New("admin: a token is required to serve on tcp")

// Server is the admin endpoint. The zero value serves health probes only: no ring, always ready.
type Server struct {
	// Ring is the ring log served at /debug/ring; nil answers 404 there.
	Ring *ringlog.Ring
	// Ready reports readiness for /readyz; nil means always ready. detail, when not empty,
	// becomes the response body.
	Ready func() (ok bool, detail string)
	// Pprof serves net/http/pprof under /debug/pprof/ when true.
	Pprof bool
	// Token is the bearer token every request on a TCP listener must carry. Required for TCP;
	// unused on unix sockets, whose file mode guards them.
	Token []byte
	// Logger receives the HTTP server's own errors, with addresses scrubbed; nil discards them.
	Logger *slog.Logger
}

// Handler returns the admin routes without authentication; Serve adds it on TCP.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writePlain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /debug/ring", s.ring)
	if s.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	ok, detail := true, ""
	if s.Ready != nil {
		ok, detail = s.Ready()
	}
	switch {
	case ok && detail == "":
		writePlain(w, http.StatusOK, "ready")
	case ok:
		writePlain(w, http.StatusOK, detail)
	case detail == "":
		writePlain(w, http.StatusServiceUnavailable, "not ready")
	default:
		writePlain(w, http.StatusServiceUnavailable, detail)
	}
}

func (s *Server) ring(w http.ResponseWriter, r *http.Request) {
	if s.Ring == nil {
		writePlain(w, http.StatusNotFound, "no ring log")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		s.Ring.WriteJSON(w)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	s.Ring.WriteText(w)
}

// wantsJSON reports whether the request asks for JSON by query or by Accept header.
func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "json"
	}
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writePlain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}

// requireToken wraps h so that only requests with "Authorization: Bearer <token>" reach it.
// The comparison hashes both sides first, so it takes the same time whatever their lengths.
func requireToken(token []byte, h http.Handler) http.Handler {
	want := sha256.Sum256(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sortie-admin"`)
			writePlain(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearer extracts the token from an Authorization header value; the scheme is case-insensitive.
func bearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}

// isUnix reports whether ln is a unix socket listener.
func isUnix(ln net.Listener) bool {
	n := ln.Addr().Network()
	return n == "unix" || n == "unixpacket"
}

// Serve serves the admin endpoint on ln until ctx ends, then shuts down gracefully within a few
// seconds. On a TCP listener it requires Token (ErrNoToken otherwise) and checks it on every
// request. Serve closes ln before it returns, and returns nil after ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	h := s.Handler()
	if !isUnix(ln) {
		if len(s.Token) == 0 {
			ln.Close()
			return ErrNoToken
		}
		h = requireToken(s.Token, h)
	}
	srv := &http.Server{
		Handler:           h,
		ErrorLog:          scrub.ErrorLog(s.Logger),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin: serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(ctx, srv, errc)
}

// shutdown drains srv within shutdownTimeout, closes what is left and waits for Serve to end.
func shutdown(ctx context.Context, srv *http.Server, errc <-chan error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: serve: %w", err)
	}
	return nil
}
