package doh

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeResolver answers A questions with 192.0.2.1 (TTL ttl) and NXDOMAIN otherwise, and
// fails with err when set.
type fakeResolver struct {
	ttl  uint32
	err  error
	seen int
}

func (f *fakeResolver) Exchange(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	f.seen++
	if f.err != nil {
		return nil, f.err
	}
	m := new(dns.Msg)
	if len(req.Question) != 1 {
		return m.SetRcode(req, dns.RcodeFormatError), nil
	}
	m.SetReply(req)
	q := req.Question[0]
	if q.Qtype != dns.TypeA {
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns: "ns.test.", Mbox: "h.test.", Minttl: 120}}
		return m, nil
	}
	for _, ttl := range []uint32{f.ttl, f.ttl + 100} {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.IPv4(192, 0, 2, 1)})
	}
	return m, nil
}

func wire(t *testing.T, name string, qtype uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0 // RFC 8484: 0 for cache friendliness
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// result is what the tests compare of a response.
type result struct {
	Status       int
	ContentType  string
	CacheControl string
	Rcode        string
	Answers      int
}

func TestHandler(t *testing.T) {
	a := wire(t, "example.test.", dns.TypeA)
	aaaa := wire(t, "example.test.", dns.TypeAAAA)
	get := func(b []byte) string { return Path + "?dns=" + base64.RawURLEncoding.EncodeToString(b) }
	ok := result{Status: 200, ContentType: MediaType, CacheControl: "max-age=300", Rcode: "NOERROR", Answers: 2}
	tests := []struct {
		name   string
		method string
		target string
		ctype  string
		body   []byte
		err    error
		want   result
	}{
		{name: "GET", method: "GET", target: get(a), want: ok},
		{name: "GET padded", method: "GET", target: Path + "?dns=" + base64.URLEncoding.EncodeToString(a), want: ok},
		{name: "POST", method: "POST", target: Path, ctype: MediaType, body: a, want: ok},
		{name: "negative answer: SOA minimum", method: "GET", target: get(aaaa),
			want: result{Status: 200, ContentType: MediaType, CacheControl: "max-age=120", Rcode: "NXDOMAIN"}},
		{name: "resolver fails: SERVFAIL", method: "GET", target: get(a), err: errors.New("closed"),
			want: result{Status: 200, ContentType: MediaType, CacheControl: "max-age=0", Rcode: "SERVFAIL"}},
		{name: "GET without dns", method: "GET", target: Path, want: result{Status: 400}},
		{name: "GET with bad base64", method: "GET", target: Path + "?dns=!!!", want: result{Status: 400}},
		{name: "GET too long", method: "GET", target: Path + "?dns=" + strings.Repeat("A", 6000), want: result{Status: 414}},
		{name: "GET not DNS", method: "GET", target: get([]byte{1, 2, 3}), want: result{Status: 400}},
		{name: "POST wrong type", method: "POST", target: Path, ctype: "text/plain", body: a, want: result{Status: 415}},
		{name: "POST empty", method: "POST", target: Path, ctype: MediaType, want: result{Status: 400}},
		{name: "POST too big", method: "POST", target: Path, ctype: MediaType, body: make([]byte, MaxQueryBytes+1), want: result{Status: 413}},
		{name: "PUT", method: "PUT", target: Path, ctype: MediaType, body: a, want: result{Status: 405}},
		{name: "other path", method: "GET", target: "/resolve?dns=" + base64.RawURLEncoding.EncodeToString(a), want: result{Status: 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &fakeResolver{ttl: 300, err: tt.err}
			h := &Handler{Resolver: res}
			req := httptest.NewRequest(tt.method, tt.target, bytes.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := result{Status: rec.Code}
			if rec.Code == 200 {
				got.ContentType = rec.Header().Get("Content-Type")
				got.CacheControl = rec.Header().Get("Cache-Control")
				m := new(dns.Msg)
				if err := m.Unpack(rec.Body.Bytes()); err != nil {
					t.Fatalf("reply does not unpack: %v", err)
				}
				got.Rcode, got.Answers = dns.RcodeToString[m.Rcode], len(m.Answer)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
			if tt.want.Status != 200 && res.seen != 0 {
				t.Errorf("refused request reached the resolver %d times", res.seen)
			}
		})
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	srv := NewServer(&Handler{Resolver: &fakeResolver{ttl: 60}}, selfSigned(t), log.New(&logged, "", 0))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln) }()

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "https://" + ln.Addr().String() + Path
	resp, err := client.Post(url, MediaType, bytes.NewReader(wire(t, "example.test.", dns.TypeA)))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := new(dns.Msg)
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || m.Unpack(body) != nil || len(m.Answer) != 2 {
		t.Errorf("POST over TLS: %s %s, %d bytes, want 200 over HTTP/2 with two answers", resp.Proto, resp.Status, len(body))
	}
	tr.CloseIdleConnections()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of its context's end")
	}
}

// selfSigned returns a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	return testkit.NewCert(t, "doh test").TLS
}
