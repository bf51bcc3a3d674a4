// Package dnstest runs a small authoritative DNS server on loopback for tests: per-name A and
// AAAA records, per-type delays, NXDOMAIN for unknown names, and a query counter. It is test
// support only; no production code imports it.
package dnstest

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running test DNS server. Its records may be changed while it runs.
type Server struct {
	Addr netip.AddrPort // where it listens, UDP and TCP on the same port

	mu      sync.Mutex
	records map[string][]netip.Addr // lower-case name without trailing dot
	delay   map[uint16]time.Duration
	ttl     uint32
	queries map[string]int // "name/TYPE" -> count
}

// Start runs a server on 127.0.0.1 with the given records (names without trailing dots) until
// the test ends.
func Start(t testing.TB, records map[string][]netip.Addr) *Server {
	t.Helper()
	s := &Server{records: map[string][]netip.Addr{}, delay: map[uint16]time.Duration{}, queries: map[string]int{}, ttl: 60}
	for name, addrs := range records {
		s.records[strings.ToLower(name)] = addrs
	}
	pc, ln, err := ListenPair()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	s.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	var wg sync.WaitGroup
	for _, srv := range []*dns.Server{udp, tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Add(1)
		go func() { defer wg.Done(); srv.ActivateAndServe() }()
		<-started
	}
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
		wg.Wait()
	})
	return s
}

// Set replaces the records of one name; no addresses makes it NXDOMAIN.
func (s *Server) Set(name string, addrs ...netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(addrs) == 0 {
		delete(s.records, strings.ToLower(name))
		return
	}
	s.records[strings.ToLower(name)] = addrs
}

// SetTTL sets the TTL of every answer.
func (s *Server) SetTTL(ttl uint32) {
	s.mu.Lock()
	s.ttl = ttl
	s.mu.Unlock()
}

// Delay makes answers to queries of type qtype (dns.TypeA, dns.TypeAAAA) wait d.
func (s *Server) Delay(qtype uint16, d time.Duration) {
	s.mu.Lock()
	s.delay[qtype] = d
	s.mu.Unlock()
}

// Queries returns how many queries of type qtype ("A", "AAAA") arrived for name.
func (s *Server) Queries(name, qtype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[strings.ToLower(strings.TrimSuffix(name, "."))+"/"+qtype]
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	s.mu.Lock()
	s.queries[name+"/"+dns.TypeToString[q.Qtype]]++
	addrs, known := s.records[name]
	delay := s.delay[q.Qtype]
	ttl := s.ttl
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if !known {
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(q.Name, ttl)}
		w.WriteMsg(m)
		return
	}
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: ttl}
	for _, a := range addrs {
		switch {
		case q.Qtype == dns.TypeA && a.Is4():
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
		case q.Qtype == dns.TypeAAAA && a.Is6():
			hdr.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
		}
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{soa(q.Name, ttl)}
	}
	w.WriteMsg(m)
}

func soa(name string, ttl uint32) dns.RR {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:  "ns.test.", Mbox: "hostmaster.test.", Serial: 1,
		Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl,
	}
}

// ListenPair takes a TCP port on 127.0.0.1 and the UDP port of the same number, retrying when
// the UDP port happens to be taken. TCP goes first: the kernel then picks a port free of
// TIME_WAIT leftovers, which UDP never has.
func ListenPair() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return pc, ln, nil
		}
		ln.Close()
		lastErr = err
	}
	return nil, nil, lastErr
}
