package resolve

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// rawServer answers any type: A and TXT for ok.test (TTL ttl), NXDOMAIN with a SOA for
// missing.test, SERVFAIL for fail.test, after delay. It counts questions by lower-case name
// and type, and remembers whether the last query had DO and CD set.
type rawServer struct {
	*fake
	ttl   atomic.Uint32
	delay atomic.Int64

	mu     sync.Mutex
	counts map[string]int
	lastDO bool
	lastCD bool
}

func startRaw(t testing.TB) *rawServer {
	t.Helper()
	s := &rawServer{counts: map[string]int{}}
	s.ttl.Store(300)
	s.fake = startFake(t, s.reply)
	return s
}

func (s *rawServer) reply(_ string, q *dns.Msg) *dns.Msg {
	time.Sleep(time.Duration(s.delay.Load()))
	qq := q.Question[0]
	name := strings.ToLower(qq.Name)
	s.mu.Lock()
	s.counts[name+dns.TypeToString[qq.Qtype]]++
	s.lastDO = q.IsEdns0() != nil && q.IsEdns0().Do()
	s.lastCD = q.CheckingDisabled
	s.mu.Unlock()
	ttl := s.ttl.Load()
	switch name {
	case "missing.test.":
		return negativeReply(q, dns.RcodeNameError, 900, 120)
	case "fail.test.":
		m := new(dns.Msg)
		return m.SetRcode(q, dns.RcodeServerFailure)
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	hdr := dns.RR_Header{Name: qq.Name, Class: dns.ClassINET, Ttl: ttl, Rrtype: qq.Qtype}
	switch qq.Qtype {
	case dns.TypeA:
		m.Answer = []dns.RR{&dns.A{Hdr: hdr, A: netip.MustParseAddr("192.0.2.1").AsSlice()}}
	case dns.TypeTXT:
		m.Answer = []dns.RR{&dns.TXT{Hdr: hdr, Txt: []string{"hello"}}}
	}
	m.SetEdns0(1232, false)
	return m
}

func (s *rawServer) count(name, qtype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[name+"."+qtype]
}

func query(name string, qtype uint16, id uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	m.RecursionDesired = true
	return m
}

// summary is what the tests compare of a reply.
type summary struct {
	ID       uint16
	Rcode    string
	Question string
	Answer   []string
	NsTTLs   []uint32
	EDNS     bool
}

func summarise(m *dns.Msg) summary {
	s := summary{ID: m.Id, Rcode: dns.RcodeToString[m.Rcode], EDNS: m.IsEdns0() != nil}
	if len(m.Question) == 1 {
		s.Question = m.Question[0].Name
	}
	for _, rr := range m.Answer {
		s.Answer = append(s.Answer, rr.String())
	}
	for _, rr := range m.Ns {
		s.NsTTLs = append(s.NsTTLs, rr.Header().Ttl)
	}
	return s
}

func TestExchange(t *testing.T) {
	srv := startRaw(t)
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute})
	withEDNS := func(m *dns.Msg) *dns.Msg { m.SetEdns0(4096, false); return m }
	tests := []struct {
		name    string
		req     *dns.Msg
		want    summary
		queries int // upstream queries for the question's name and type
	}{
		{
			name:    "A, case and ID echoed, TTL capped at the 5m bucket",
			req:     query("Ok.Test.", dns.TypeA, 4242),
			want:    summary{ID: 4242, Rcode: "NOERROR", Question: "Ok.Test.", Answer: []string{"ok.test.\t300\tIN\tA\t192.0.2.1"}},
			queries: 1,
		},
		{
			name:    "TXT with EDNS0",
			req:     withEDNS(query("ok.test.", dns.TypeTXT, 7)),
			want:    summary{ID: 7, Rcode: "NOERROR", Question: "ok.test.", Answer: []string{"ok.test.\t300\tIN\tTXT\t\"hello\""}, EDNS: true},
			queries: 1,
		},
		{
			name:    "NXDOMAIN, SOA TTL capped at the negative lifetime",
			req:     query("missing.test.", dns.TypeA, 1),
			want:    summary{ID: 1, Rcode: "NXDOMAIN", Question: "missing.test.", NsTTLs: []uint32{60}},
			queries: 1,
		},
		{
			name: "onion never asked",
			req:  query("abc.onion.", dns.TypeA, 2),
			want: summary{ID: 2, Rcode: "NXDOMAIN", Question: "abc.onion."},
		},
		{
			name: "zone transfer refused",
			req:  query("ok.test.", dns.TypeAXFR, 3),
			want: summary{ID: 3, Rcode: "REFUSED", Question: "ok.test."},
		},
		{
			name: "chaos class refused",
			req: func() *dns.Msg {
				m := query("version.bind.", dns.TypeTXT, 4)
				m.Question[0].Qclass = dns.ClassCHAOS
				return m
			}(),
			want: summary{ID: 4, Rcode: "REFUSED", Question: "version.bind."},
		},
		{
			name: "two questions",
			req: func() *dns.Msg {
				m := query("ok.test.", dns.TypeA, 5)
				m.Question = append(m.Question, m.Question[0])
				return m
			}(),
			want:    summary{ID: 5, Rcode: "FORMERR"},
			queries: 1, // from the first row
		},
		{
			name: "not a query",
			req: func() *dns.Msg {
				m := query("ok.test.", dns.TypeSOA, 6)
				m.Opcode = dns.OpcodeNotify
				return m
			}(),
			want: summary{ID: 6, Rcode: "NOTIMP", Question: "ok.test."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Exchange(lookupCtx(t), tt.req)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if !got.Response {
				t.Errorf("reply has QR unset")
			}
			if diff := cmp.Diff(tt.want, summarise(got)); diff != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", diff)
			}
			q := tt.req.Question[0]
			if n := srv.count(strings.ToLower(strings.TrimSuffix(q.Name, ".")), dns.TypeToString[q.Qtype]); n != tt.queries {
				t.Errorf("upstream saw %d queries, want %d", n, tt.queries)
			}
		})
	}
}

func TestExchangeCache(t *testing.T) {
	srv := startRaw(t)
	clock := newFakeClock()
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute, Now: clock.Now})
	ctx := lookupCtx(t)
	ask := func(id uint16, do bool) summary {
		t.Helper()
		req := query("ok.test.", dns.TypeA, id)
		if do {
			req.SetEdns0(1232, true)
		}
		m, err := r.Exchange(ctx, req)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		return summarise(m)
	}
	srv.ttl.Store(30) // below the floor: cached 60s, told as 30s
	first := ask(1, false)
	clock.Advance(59 * time.Second)
	second := ask(2, false)
	if diff := cmp.Diff(first.Answer, second.Answer); diff != "" {
		t.Errorf("cached answer differs from the first (-first +cached):\n%s", diff)
	}
	if want := []string{"ok.test.\t30\tIN\tA\t192.0.2.1"}; !cmp.Equal(second.Answer, want) {
		t.Errorf("cached answer %q, want %q (TTL not counted down, never raised)", second.Answer, want)
	}
	if second.ID != 2 {
		t.Errorf("cached reply ID %d, want 2", second.ID)
	}
	if n := srv.count("ok.test", "A"); n != 1 {
		t.Errorf("upstream saw %d queries after a cache hit, want 1", n)
	}
	ask(3, true) // DO set: another question
	if n := srv.count("ok.test", "A"); n != 2 {
		t.Errorf("upstream saw %d queries after a DO query, want 2", n)
	}
	srv.mu.Lock()
	do := srv.lastDO
	srv.mu.Unlock()
	if !do {
		t.Errorf("the DO bit was not forwarded upstream")
	}
	clock.Advance(2 * time.Second) // past the floor
	ask(4, false)
	if n := srv.count("ok.test", "A"); n != 3 {
		t.Errorf("upstream saw %d queries after expiry, want 3", n)
	}
	if _, err := r.LookupNetIP(ctx, "ip4", "ok.test"); err != nil {
		t.Fatalf("LookupNetIP: %v", err)
	}
	if n := srv.count("ok.test", "A"); n != 4 {
		t.Errorf("upstream saw %d queries after LookupNetIP, want 4 (separate entries)", n)
	}
}

func TestExchangeFailures(t *testing.T) {
	srv := startRaw(t)
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute})
	for i := range 2 {
		m, err := r.Exchange(lookupCtx(t), query("fail.test.", dns.TypeA, 9))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		if got := dns.RcodeToString[m.Rcode]; got != "SERVFAIL" {
			t.Errorf("rcode %s, want SERVFAIL", got)
		}
		// Two attempts on the one upstream per question; SERVFAIL is never cached.
		if got, want := srv.count("fail.test", "A"), 2*(i+1); got != want {
			t.Errorf("upstream saw %d queries after %d questions, want %d", got, i+1, want)
		}
	}
	quiet, _ := newTest(t, Config{Nameservers: []netip.AddrPort{silent(t)}, Timeout: 100 * time.Millisecond, TTLFloor: time.Minute})
	m, err := quiet.Exchange(lookupCtx(t), query("ok.test.", dns.TypeA, 10))
	if err != nil {
		t.Fatalf("Exchange to a silent upstream: %v", err)
	}
	if got := dns.RcodeToString[m.Rcode]; got != "SERVFAIL" || m.Id != 10 {
		t.Errorf("silent upstream: rcode %s ID %d, want SERVFAIL ID 10", got, m.Id)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := quiet.Exchange(ctx, query("other.test.", dns.TypeA, 11)); err == nil {
		t.Errorf("Exchange with a cancelled context: nil error, want one")
	}
}

func TestExchangeCoalesced(t *testing.T) {
	srv := startRaw(t)
	srv.delay.Store(int64(100 * time.Millisecond))
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: 0})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			m, err := r.Exchange(lookupCtx(t), query("OK.test.", dns.TypeTXT, uint16(i)))
			if err != nil || len(m.Answer) != 1 || m.Id != uint16(i) {
				t.Errorf("Exchange %d: %v, %v", i, m, err)
			}
		})
	}
	wg.Wait()
	if n := srv.count("ok.test", "TXT"); n != 1 {
		t.Errorf("upstream saw %d queries for 20 concurrent questions, want 1", n)
	}
}
