package doh

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/miekg/dns"
)

// FuzzHandler feeds arbitrary bytes as a POST body and as a GET parameter: the handler must
// answer every one with a known status, and a 200 only with a DNS message.
func FuzzHandler(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeA)
	q, _ := m.Pack()
	f.Add(q)
	f.Add([]byte{0, 0, 1, 0, 0, 1})
	f.Add([]byte{})
	h := &Handler{Resolver: &fakeResolver{ttl: 60}}
	allowed := map[int]bool{200: true, 400: true, 413: true, 414: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", Path, bytes.NewReader(b)),
			httptest.NewRequest("GET", Path+"?dns="+base64.RawURLEncoding.EncodeToString(b), nil),
		} {
			req.Header.Set("Content-Type", MediaType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if !allowed[rec.Code] {
				t.Fatalf("%s: status %d", req.Method, rec.Code)
			}
			if rec.Code == 200 && new(dns.Msg).Unpack(rec.Body.Bytes()) != nil {
				t.Fatalf("%s: 200 with a body that is not a DNS message", req.Method)
			}
		}
	})
}
