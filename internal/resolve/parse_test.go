package resolve

import (
	"testing"

	"github.com/miekg/dns"
)

func TestParseCNAMEChain(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("www.test.", dns.TypeA)
	m := new(dns.Msg)
	m.SetReply(q)
	cname := func(from, to string, ttl uint32) dns.RR {
		return &dns.CNAME{Hdr: dns.RR_Header{Name: from, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: ttl}, Target: to}
	}
	a := func(name, ip string, ttl uint32) dns.RR {
		rr, err := dns.NewRR(name + " " + "IN A " + ip)
		if err != nil {
			t.Fatal(err)
		}
		rr.Header().Ttl = ttl
		return rr
	}
	m.Answer = []dns.RR{
		cname("WWW.test.", "cdn.test.", 120),
		cname("cdn.test.", "edge.test.", 3600),
		a("edge.test.", "192.0.2.7", 600),
		a("unrelated.test.", "203.0.113.9", 600), // not on the chain: ignored
	}
	got, failed := parseAnswer(m, "www.test.", dns.TypeA)
	if failed || got.outcome != outSuccess {
		t.Fatalf("outcome %v failed %v, want success", got.outcome, failed)
	}
	if len(got.addrs) != 1 || got.addrs[0].String() != "192.0.2.7" {
		t.Errorf("addresses %v, want [192.0.2.7]", got.addrs)
	}
	if got.ttl.Seconds() != 120 {
		t.Errorf("ttl %v, want 2m0s (the smallest on the chain)", got.ttl)
	}
}

// FuzzParseAnswer feeds arbitrary upstream replies to the answer parser: it must not panic, and
// a success must carry addresses of the asked type.
func FuzzParseAnswer(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("host.test.", dns.TypeA)
	seed := answerA(q, 60, "192.0.2.1")
	if b, err := seed.Pack(); err == nil {
		f.Add(b, true)
	}
	if b, err := negativeReply(q, dns.RcodeNameError, 60, 30).Pack(); err == nil {
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, b []byte, wantA bool) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		qtype := dns.TypeAAAA
		if wantA {
			qtype = dns.TypeA
		}
		a, _ := parseAnswer(m, "host.test.", qtype)
		if a.outcome == outSuccess && len(a.addrs) == 0 {
			t.Fatal("success without addresses")
		}
		for _, ip := range a.addrs {
			if ip.Is4() != wantA {
				t.Fatalf("address %v for qtype %d", ip, qtype)
			}
		}
	})
}
