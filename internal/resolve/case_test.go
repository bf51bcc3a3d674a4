package resolve

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A name with many letters: all of them keeping their case by chance is a 2^-40 event.
const longName = "abcdefghijklmnopqrstuvwxyzabcdefghijklmn.test"

func lowerQuestion(m *dns.Msg) *dns.Msg {
	m.Question[0].Name = strings.ToLower(m.Question[0].Name)
	return m
}

func TestRandomCase(t *testing.T) {
	tests := []struct {
		name string
		bits uint64
		want string
	}{
		{name: "no flips", bits: 0, want: "ab-1.test."},
		{name: "all flips", bits: ^uint64(0), want: "AB-1.TEST."},
		{name: "first and third", bits: 0b101, want: "Ab-1.test."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := randomCase("ab-1.test.", func() uint64 { return tt.bits })
			if got != tt.want {
				t.Errorf("randomCase = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQueriesUse0x20(t *testing.T) {
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg { return answerA(q, 60, "192.0.2.1") })
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}})
	if _, err := r.LookupNetIP(lookupCtx(t), "ip4", longName); err != nil {
		t.Fatal(err)
	}
	names := f.queryNames()
	if len(names) != 1 || names[0] == longName+"." || !strings.EqualFold(names[0], longName+".") {
		t.Errorf("query names %q, want one mixed-case spelling of %s", names, longName)
	}
	if got := f.tcp.Load(); got != 0 {
		t.Errorf("case-preserving upstream got %d TCP queries, want 0", got)
	}
}

func TestDisable0x20Config(t *testing.T) {
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg { return answerA(q, 60, "192.0.2.1") })
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, Disable0x20: true})
	if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "MiXeD."+longName); err != nil {
		t.Fatal(err)
	}
	if names := f.queryNames(); len(names) != 1 || names[0] != "mixed."+longName+"." {
		t.Errorf("query names %q, want the lower-case name", names)
	}
}

// An upstream that lower-cases every question, on UDP and TCP alike: after one TCP retry 0x20
// is turned off for it, counted once, and later queries go out in lower case over UDP only.
func TestCaseManglingUpstream(t *testing.T) {
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg {
		return lowerQuestion(answerA(q, 60, "192.0.2.1"))
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}})
	for i := range 3 {
		if _, err := r.LookupNetIP(lookupCtx(t), "ip4", longName); err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	if u, tc := f.udp.Load(), f.tcp.Load(); u != 3 || tc != 1 {
		t.Errorf("queries udp=%d tcp=%d, want 3 and 1", u, tc)
	}
	if got := testutil.ToFloat64(r.metrics.caseOff); got != 1 {
		t.Errorf("case_disabled_total = %v, want 1", got)
	}
	if names := f.queryNames(); names[len(names)-1] != longName+"." {
		t.Errorf("last query name %q, want lower case", names[len(names)-1])
	}
}

// An upstream whose UDP answers come back with the wrong case but whose TCP answers are exact
// (what a spoofed UDP answer looks like): the TCP answer is used and 0x20 stays on.
func TestCaseMismatchOnUDPOnly(t *testing.T) {
	f := startFake(t, func(network string, q *dns.Msg) *dns.Msg {
		if network == "udp" {
			return lowerQuestion(answerA(q, 60, "203.0.113.66"))
		}
		return answerA(q, 60, "192.0.2.1")
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}})
	got, err := r.LookupNetIP(lookupCtx(t), "ip4", longName)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("addresses %v, want the TCP answer 192.0.2.1", got)
	}
	if got := testutil.ToFloat64(r.metrics.caseOff); got != 0 {
		t.Errorf("case_disabled_total = %v, want 0", got)
	}
	if !r.upstreams[0].use0x20() {
		t.Error("0x20 turned off for an upstream that preserves case over TCP")
	}
}

// An answer for another name entirely is rejected, over UDP and TCP alike.
func TestWrongNameRejected(t *testing.T) {
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg {
		m := answerA(q, 60, "203.0.113.66")
		m.Question[0].Name = "other.test."
		return m
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, Attempts: 1, Timeout: time.Second})
	if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "host.test"); err == nil {
		t.Fatal("answer for another name accepted")
	}
}
