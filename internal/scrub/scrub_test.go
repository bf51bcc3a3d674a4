package scrub

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/netip"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "tls handshake error",
			in:   "http: TLS handshake error from 203.0.113.5:41234: EOF",
			want: "http: TLS handshake error from [addr]: EOF",
		},
		{
			name: "panic serving ipv6",
			in:   "http: panic serving [2001:db8::1]:443: boom",
			want: "http: panic serving [addr]: boom",
		},
		{
			name: "accept error on wildcard",
			in:   "http: Accept error: accept tcp [::]:80: accept4: too many open files; retrying in 5ms",
			want: "http: Accept error: accept tcp [addr]: accept4: too many open files; retrying in 5ms",
		},
		{
			name: "dial error with both ends",
			in:   "dial tcp 192.0.2.1:5000->198.51.100.7:443: connect: connection refused",
			want: "dial tcp [addr]->[addr]: connect: connection refused",
		},
		{
			name: "bare ipv6 ending a sentence",
			in:   "no route to 2001:db8:0:1::53.",
			want: "no route to [addr].",
		},
		{
			name: "bare ipv6 before a colon",
			in:   "read fe80::1%eth0: timeout",
			want: "read [addr]: timeout",
		},
		{
			name: "ipv4-mapped ipv6",
			in:   "from ::ffff:203.0.113.9 ok",
			want: "from [addr] ok",
		},
		{
			name: "host and port",
			in:   "dial tcp example.com:443: i/o timeout",
			want: "dial tcp [addr]: i/o timeout",
		},
		{
			name: "url error",
			in:   `Get "https://user:pw@example.org/path?q=1": EOF`,
			want: `Get "[addr]": EOF`,
		},
		{
			name: "dns lookup",
			in:   "dial tcp: lookup secret.example on 127.0.0.53:53: no such host",
			want: "dial tcp: lookup [addr] on [addr]: no such host",
		},
		{
			name: "dns lookup without server",
			in:   "lookup secret.example: no such host",
			want: "lookup [addr]: no such host",
		},
		{
			name: "times and counts stay",
			in:   "took 12:30:45, 3 of 4 done, net/http: request canceled",
			want: "took 12:30:45, 3 of 4 done, net/http: request canceled",
		},
		{
			name: "brackets that are not addresses stay",
			in:   "listener [main]: closed",
			want: "listener [main]: closed",
		},
		{
			name: "plain ipv4 without port",
			in:   "refused 10.1.2.3",
			want: "refused [addr]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorLog(t *testing.T) {
	var buf bytes.Buffer
	l := ErrorLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Printf("http: TLS handshake error from %s: %v", "203.0.113.5:41234", "EOF")
	var rec struct{ Level, Msg string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log output %q: %v", buf.String(), err)
	}
	want := struct{ Level, Msg string }{Level: "WARN", Msg: "http: TLS handshake error from [addr]: EOF"}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

func TestErrorLogNil(t *testing.T) {
	ErrorLog(nil).Print("203.0.113.5:1: dropped") // must not panic
}

// FuzzScrubRemovesAddresses puts an address between two copies of arbitrary text and checks
// that the address is gone and the text around it is scrubbed as it would be alone.
func FuzzScrubRemovesAddresses(f *testing.F) {
	f.Add("x", uint8(1), uint8(2), uint16(80))
	f.Add("lookup", uint8(0), uint8(0), uint16(0))
	f.Fuzz(func(t *testing.T, text string, a, b uint8, port uint16) {
		for _, addr := range []string{
			netip.AddrFrom4([4]byte{203, 0, a, b}).String(), "[2001:db8::" + strconv.Itoa(int(a)) + "]",
		} {
			in := text + " " + addr + ":" + strconv.Itoa(int(port)) + " " + text
			got := Scrub(in)
			want := Scrub(text) + " " + Placeholder + " " + Scrub(text)
			if got != want {
				t.Errorf("Scrub(%q)\n got %q\nwant %q", in, got, want)
			}
		}
	})
}
