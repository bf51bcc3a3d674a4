// Package doh serves DNS over HTTPS (RFC 8484): GET with a base64url "dns" parameter and POST
// with an application/dns-message body, at /dns-query. It parses and answers DNS messages and
// nothing else: the answers come from an Exchanger (Sortie's caching resolver, its own
// instance), and the TLS listener, the certificate and the error log are the caller's. It
// logs nothing and keeps nothing about the queries it answers.
package doh

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Path is where the endpoint answers (the path RFC 8484's examples use, and curl's default).
const Path = "/dns-query"

// MediaType is the content type of DNS messages over HTTP (RFC 8484 section 6).
const MediaType = "application/dns-message"

// Limits on what the endpoint accepts; a DNS query is rarely above 100 bytes.
const (
	// MaxQueryBytes bounds a query message, in a POST body or decoded from ?dns=.
	MaxQueryBytes = 4096
	// DefaultTimeout bounds the answer to one query when Handler.Timeout is zero.
	DefaultTimeout = 5 * time.Second
)

// Exchanger answers a DNS query message. It returns a reply for every DNS-level outcome
// (SERVFAIL included) and an error only when it could not answer at all.
type Exchanger interface {
	Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error)
}

// Handler is the DoH endpoint's http.Handler.
type Handler struct {
	// Resolver answers the queries. Required.
	Resolver Exchanger
	// Timeout bounds the answer to one query; zero means DefaultTimeout. Past it the client
	// gets a SERVFAIL reply.
	Timeout time.Duration
}

// ServeHTTP answers one DoH request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	wire, status := readQuery(w, r)
	if status != http.StatusOK {
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, HEAD, POST")
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	req := new(dns.Msg)
	if err := req.Unpack(wire); err != nil {
		http.Error(w, "malformed DNS message", http.StatusBadRequest)
		return
	}
	h.answer(w, r, req)
}

// readQuery returns the wire-format query of a GET (?dns=) or POST request, or the HTTP
// status that refuses it.
func readQuery(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return decodeParam(r.URL.Query().Get("dns"))
	case http.MethodPost:
		return readBody(w, r)
	}
	return nil, http.StatusMethodNotAllowed
}

// decodeParam decodes the base64url "dns" parameter; padding is tolerated though RFC 8484
// says to leave it out.
func decodeParam(s string) ([]byte, int) {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, http.StatusBadRequest
	}
	if base64.RawURLEncoding.DecodedLen(len(s)) > MaxQueryBytes {
		return nil, http.StatusRequestURITooLong
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	return b, http.StatusOK
}

// readBody reads a POST body of type application/dns-message, at most MaxQueryBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(ct), MediaType) {
		return nil, http.StatusUnsupportedMediaType
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxQueryBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge
	case err != nil:
		return nil, http.StatusBadRequest
	case len(b) == 0:
		return nil, http.StatusBadRequest
	}
	return b, http.StatusOK
}

// answer resolves req and writes the reply with its freshness lifetime.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, req *dns.Msg) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	reply, err := h.Resolver.Exchange(ctx, req)
	if err != nil {
		reply = new(dns.Msg)
		reply.SetRcode(req, dns.RcodeServerFailure)
	}
	wire, err := reply.Pack()
	if err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", MediaType)
	hd.Set("Content-Length", strconv.Itoa(len(wire)))
	hd.Set("Cache-Control", "max-age="+strconv.FormatUint(uint64(MaxAge(reply)), 10))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(wire)
}

// MaxAge returns the freshness lifetime of a reply in seconds (RFC 8484 section 5.1): the
// smallest TTL of its answer records; for an answer without records, the negative caching
// time of its SOA (RFC 2308); 0 for failures and for replies with neither.
func MaxAge(m *dns.Msg) uint32 {
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return 0
	}
	if len(m.Answer) > 0 {
		age := m.Answer[0].Header().Ttl
		for _, rr := range m.Answer[1:] {
			age = min(age, rr.Header().Ttl)
		}
		return age
	}
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 0
}
