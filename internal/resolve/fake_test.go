package resolve

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/prometheus/client_golang/prometheus"
	"sortie.dev/sortie/internal/dnstest"
)

// fake is a scripted DNS server on 127.0.0.1, UDP and TCP on one port. Its handler sees the
// transport ("udp" or "tcp") and the query; it returns the reply, or nil to stay silent.
type fake struct {
	addr netip.AddrPort
	udp  atomic.Int64 // queries received over UDP
	tcp  atomic.Int64 // and over TCP

	mu    sync.Mutex
	names []string // query names received, as sent (case kept)
}

type replyFunc func(network string, q *dns.Msg) *dns.Msg

func startFake(t testing.TB, reply replyFunc) *fake {
	t.Helper()
	pc, ln := listenPair(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	f := &fake{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		network := w.RemoteAddr().Network()
		if network == "udp" {
			f.udp.Add(1)
		} else {
			f.tcp.Add(1)
		}
		if len(q.Question) > 0 {
			f.mu.Lock()
			f.names = append(f.names, q.Question[0].Name)
			f.mu.Unlock()
		}
		if m := reply(network, q); m != nil {
			w.WriteMsg(m)
		}
	})
	serve(t, &dns.Server{PacketConn: pc, Handler: h}, &dns.Server{Listener: ln, Handler: h})
	return f
}

// listenPair returns a UDP socket and a TCP listener on the same loopback port.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	pc, ln, err := dnstest.ListenPair()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return pc, ln
}

func serve(t testing.TB, servers ...*dns.Server) {
	var wg sync.WaitGroup
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Add(1)
		go func() { defer wg.Done(); srv.ActivateAndServe() }()
		<-started
	}
	t.Cleanup(func() {
		for _, srv := range servers {
			srv.Shutdown()
		}
		wg.Wait()
	})
}

func (f *fake) queryNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.names...)
}

// silent returns a UDP address that swallows queries (a bound socket nobody reads).
func silent(t testing.TB) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// answerA replies with one A record per address, with ttl, echoing the question as sent.
func answerA(q *dns.Msg, ttl uint32, addrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		hdr := dns.RR_Header{Name: q.Question[0].Name, Class: dns.ClassINET, Ttl: ttl}
		if ip.Is4() {
			hdr.Rrtype = dns.TypeA
			if q.Question[0].Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.AsSlice()})
			}
			continue
		}
		hdr.Rrtype = dns.TypeAAAA
		if q.Question[0].Qtype == dns.TypeAAAA {
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
		}
	}
	return m
}

// negativeReply answers with rcode and a SOA whose own TTL and MINIMUM are given.
func negativeReply(q *dns.Msg, rcode int, soaTTL, minimum uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.Ns = []dns.RR{&dns.SOA{
		Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: soaTTL},
		Ns:  "ns.test.", Mbox: "hostmaster.test.", Serial: 1,
		Refresh: 3600, Retry: 600, Expire: 86400, Minttl: minimum,
	}}
	return m
}

// fakeClock is a settable clock for cache expiry and the timeout window.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTest returns a resolver on cfg (DefaultConfig fields filled in where zero, except the TTL
// floor) with a fresh registry, closed at the end of the test.
func newTest(t testing.TB, cfg Config) (*Resolver, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := New(cfg, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	return r, reg
}

// records is a fake authoritative server with per-name addresses, like dnstest.Server but
// started through listenPair, which retries when the TCP port is taken (busy shared machines).
type records struct {
	*fake

	mu     sync.Mutex
	data   map[string][]netip.Addr // lower-case names without the trailing dot
	ttl    uint32
	delay  time.Duration // before answering A questions
	counts map[string]int
}

func startRecords(t testing.TB, data map[string][]netip.Addr) *records {
	t.Helper()
	rs := &records{data: data, ttl: 60, counts: map[string]int{}}
	rs.fake = startFake(t, rs.reply)
	return rs
}

func (rs *records) reply(_ string, q *dns.Msg) *dns.Msg {
	qq := q.Question[0]
	name := strings.ToLower(strings.TrimSuffix(qq.Name, "."))
	rs.mu.Lock()
	rs.counts[name+"/"+dns.TypeToString[qq.Qtype]]++
	addrs, known := rs.data[name]
	ttl, delay := rs.ttl, rs.delay
	rs.mu.Unlock()
	if delay > 0 && qq.Qtype == dns.TypeA {
		time.Sleep(delay)
	}
	if !known {
		return negativeReply(q, dns.RcodeNameError, ttl, ttl)
	}
	var ss []string
	for _, a := range addrs {
		ss = append(ss, a.String())
	}
	m := answerA(q, ttl, ss...)
	if len(m.Answer) == 0 {
		return negativeReply(q, dns.RcodeSuccess, ttl, ttl)
	}
	return m
}

func (rs *records) SetTTL(ttl uint32) {
	rs.mu.Lock()
	rs.ttl = ttl
	rs.mu.Unlock()
}

func (rs *records) DelayA(d time.Duration) {
	rs.mu.Lock()
	rs.delay = d
	rs.mu.Unlock()
}

// Queries returns how many questions of qtype ("A", "AAAA") arrived for name.
func (rs *records) Queries(name, qtype string) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.counts[strings.ToLower(name)+"/"+qtype]
}
