package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/refusal"
)

// ignoreDNSServer lets a test DNS server still answer a delayed query.
var ignoreDNSServer = goleak.IgnoreAnyFunction("github.com/miekg/dns.(*Server).serveUDPPacket")

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// allowLoopback is a Check for tests on this machine: loopback passes, the rest as Builtin.
func allowLoopback(addr netip.Addr, port uint16) error {
	if addr.IsLoopback() {
		return nil
	}
	return Builtin(addr, port)
}

// origin is a TCP server on 127.0.0.1 and, when the machine has IPv6, [::1], on one port.
// It accepts, reports the family of each connection and closes it.
type origin struct {
	port     uint16
	accepted chan netip.Addr // local address of each accepted connection
	has6     bool
}

func startOrigin(t testing.TB) *origin {
	t.Helper()
	o := &origin{accepted: make(chan netip.Addr, 64)}
	var lns []net.Listener
	for range 20 { // a port free on both families
		ln4, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln4.Addr().(*net.TCPAddr).Port
		ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err == nil {
			lns, o.has6 = []net.Listener{ln4, ln6}, true
		} else if errors.Is(err, syscall.EADDRINUSE) {
			ln4.Close()
			continue
		} else {
			lns = []net.Listener{ln4}
		}
		o.port = uint16(port)
		break
	}
	if len(lns) == 0 {
		t.Fatal("no port free on both 127.0.0.1 and ::1")
	}
	var wg sync.WaitGroup
	for _, ln := range lns {
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				select {
				case o.accepted <- c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap():
				default:
				}
				c.Close()
			}
		})
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		wg.Wait()
	})
	return o
}

func (o *origin) need6(t *testing.T) {
	if !o.has6 {
		t.Skip("no IPv6 loopback on this machine")
	}
}

// wantAccepted waits (at most 2 s) for the next connection and checks its family.
func (o *origin) wantAccepted(t *testing.T, want netip.Addr) {
	t.Helper()
	select {
	case got := <-o.accepted:
		if got != want {
			t.Errorf("origin accepted on %v, want %v", got, want)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("origin accepted nothing, want a connection on %v", want)
	}
}

// wantNothing checks that no connection reached the origin.
func (o *origin) wantNothing(t *testing.T) {
	t.Helper()
	select {
	case got := <-o.accepted:
		t.Errorf("origin accepted a connection on %v, want none", got)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestDialRealHappyEyeballs runs the family choice over real sockets and a real DNS server.
// The exact timings are tested with fake time (TestDialHappyEyeballs); here a loaded machine
// may stretch the 50ms resolution delay, so each case gets up to three tries.
func TestDialRealHappyEyeballs(t *testing.T) {
	cases := []struct {
		name      string
		records   []netip.Addr
		delayAAAA time.Duration
		want      netip.Addr
		maxTime   time.Duration
		needs6    bool
	}{
		{name: "ipv6 preferred", records: []netip.Addr{lo6, lo4}, want: lo6, needs6: true, maxTime: time.Second},
		{name: "AAAA within 50ms of A", records: []netip.Addr{lo6, lo4}, delayAAAA: 15 * time.Millisecond,
			want: lo6, needs6: true, maxTime: time.Second},
		{name: "AAAA beyond 50ms: ipv4 dialled", records: []netip.Addr{lo6, lo4}, delayAAAA: time.Second,
			want: lo4, maxTime: 800 * time.Millisecond},
		{name: "only A records", records: []netip.Addr{lo4}, want: lo4, maxTime: time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := startOrigin(t)
			if c.needs6 {
				o.need6(t)
			}
			var problems []string
			for range 3 {
				srv := dnstest.Start(t, map[string][]netip.Addr{"dual.test": c.records})
				srv.Delay(dns.TypeAAAA, c.delayAAAA)
				if problems = dialFamily(t, srv, o, c.want, c.maxTime); len(problems) == 0 {
					return
				}
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// dialFamily dials dual.test once and returns what went wrong.
func dialFamily(t *testing.T, srv *dnstest.Server, o *origin, want netip.Addr, maxTime time.Duration) []string {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), ignoreDNSServer)
	e := &Egress{Resolver: NewResolver([]netip.AddrPort{srv.Addr}, time.Second), Check: allowLoopback}
	start := time.Now()
	conn, err := e.Dial(t.Context(), Target{Host: "Dual.Test", Port: o.port})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	took := time.Since(start)
	defer conn.Close()
	var problems []string
	if got := conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap(); got != want {
		problems = append(problems, fmt.Sprintf("connected to %v, want %v", got, want))
	}
	if took > maxTime {
		problems = append(problems, fmt.Sprintf("Dial took %v, want at most %v", took, maxTime))
	}
	select {
	case got := <-o.accepted:
		if got != want {
			problems = append(problems, fmt.Sprintf("origin accepted on %v, want %v", got, want))
		}
	case <-time.After(2 * time.Second):
		problems = append(problems, "origin accepted nothing")
	}
	winner := map[bool]string{true: "A", false: "AAAA"}[want.Is4()]
	for _, qtype := range []string{"A", "AAAA"} {
		n := srv.Queries("dual.test", qtype)
		if n > 1 || qtype == winner && n != 1 {
			problems = append(problems, fmt.Sprintf("%d %s queries, want 1", n, qtype))
		}
	}
	return problems
}

// TestDialRealBlackhole holds the IPv6 attempt like a silent network and lets IPv4 through
// to the real listener.
func TestDialRealBlackhole(t *testing.T) {
	o := startOrigin(t)
	srv := dnstest.Start(t, map[string][]netip.Addr{"dual.test": {lo6, lo4}})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), ignoreDNSServer)
	var mu sync.Mutex
	var starts []time.Duration
	var v6Cancelled bool
	begin := time.Now()
	e := &Egress{
		Resolver: NewResolver([]netip.AddrPort{srv.Addr}, time.Second),
		Check:    allowLoopback,
		dialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			mu.Lock()
			starts = append(starts, time.Since(begin))
			mu.Unlock()
			if netip.MustParseAddrPort(address).Addr().Is6() {
				<-ctx.Done()
				mu.Lock()
				v6Cancelled = true
				mu.Unlock()
				return nil, ctx.Err()
			}
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		},
	}
	conn, err := e.Dial(t.Context(), Target{Host: "dual.test", Port: o.port})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	o.wantAccepted(t, lo4)
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 2 {
		t.Fatalf("%d attempts, want 2", len(starts))
	}
	// Never before 250ms; a loaded machine may start it late.
	if gap := starts[1] - starts[0]; gap < 245*time.Millisecond || gap > 3*time.Second {
		t.Errorf("second attempt %v after the first, want about 250ms", gap)
	}
	if !v6Cancelled {
		t.Error("the IPv6 attempt was not cancelled before Dial returned")
	}
}

func TestDialRealErrors(t *testing.T) {
	closed := closedPort(t)
	servfail := startServfail(t)
	silent := startSilent(t)
	o := startOrigin(t)
	srv := dnstest.Start(t, map[string][]netip.Addr{
		"closed.test":  {lo4},
		"loop.test":    {lo4},
		"private.test": {netip.MustParseAddr("10.1.2.3")},
		"origin.test":  {lo4},
	})
	cases := []struct {
		name       string
		nameserver netip.AddrPort
		check      func(netip.Addr, uint16) error
		own        func(netip.Addr, uint16) bool
		target     Target
		wantReason refusal.Reason
	}{
		{name: "nxdomain", target: Target{Host: "nothing.test", Port: 80}, wantReason: refusal.NXDomain},
		{name: "servfail", nameserver: servfail, target: Target{Host: "any.test", Port: 80},
			wantReason: refusal.DNSFailure},
		{name: "silent nameserver", nameserver: silent, target: Target{Host: "any.test", Port: 80},
			wantReason: refusal.DNSTimeout},
		{name: "connection refused by name", target: Target{Host: "closed.test", Port: closed},
			wantReason: refusal.Refused},
		{name: "connection refused by literal", target: Target{Host: "127.0.0.1", Port: closed},
			wantReason: refusal.Refused},
		{name: "builtin refuses loopback by name", check: Builtin,
			target: Target{Host: "origin.test", Port: o.port}, wantReason: refusal.Policy},
		{name: "builtin refuses loopback literal", check: Builtin,
			target: Target{Host: "127.0.0.1", Port: o.port}, wantReason: refusal.Policy},
		{name: "private address refused", target: Target{Host: "private.test", Port: o.port},
			wantReason: refusal.Policy},
		{name: "own listener refused", own: func(a netip.Addr, p uint16) bool { return a.IsLoopback() && p == o.port },
			target: Target{Host: "origin.test", Port: o.port}, wantReason: refusal.Policy},
		{name: "port zero", target: Target{Host: "origin.test"}, wantReason: refusal.Malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := c.nameserver
			if !ns.IsValid() {
				ns = srv.Addr
			}
			check := c.check
			if check == nil {
				check = allowLoopback
			}
			e := &Egress{Resolver: NewResolver([]netip.AddrPort{ns}, 200*time.Millisecond),
				ResolveTimeout: 500 * time.Millisecond, Check: check, Own: c.own}
			conn, err := e.Dial(t.Context(), c.target)
			if err == nil {
				conn.Close()
				t.Fatalf("Dial succeeded, want %v", c.wantReason)
			}
			if got := refusal.ReasonOf(err); got != c.wantReason {
				t.Errorf("reason = %v (%v), want %v", got, errors.Unwrap(err), c.wantReason)
			}
			o.wantNothing(t)
		})
	}
}

// TestNewResolverRotates puts a silent nameserver first: the lookup must still succeed on
// the second one, within the per-exchange timeout.
func TestNewResolverRotates(t *testing.T) {
	silent := startSilent(t)
	srv := dnstest.Start(t, map[string][]netip.Addr{"ok.test": {lo4}})
	r := NewResolver([]netip.AddrPort{silent, srv.Addr}, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	got, err := r.LookupNetIP(ctx, "ip4", "ok.test.")
	if err != nil {
		t.Fatalf("LookupNetIP: %v", err)
	}
	if len(got) != 1 || got[0] != lo4 {
		t.Errorf("LookupNetIP = %v, want [%v]", got, lo4)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("lookup took %v, want the silent server given up after about 300ms", took)
	}
	if n := srv.Queries("ok.test", "A"); n < 1 {
		t.Errorf("%d queries reached the second nameserver, want at least 1", n)
	}
}

// TestNewResolverErrors checks the *net.DNSError flags Dial relies on.
func TestNewResolverErrors(t *testing.T) {
	srv := dnstest.Start(t, map[string][]netip.Addr{"a.test": {lo4}})
	silent := startSilent(t)
	cases := []struct {
		name       string
		ns         netip.AddrPort
		host       string
		network    string
		wantReason refusal.Reason
	}{
		{name: "nxdomain", ns: srv.Addr, host: "none.test.", network: "ip4", wantReason: refusal.NXDomain},
		{name: "nodata", ns: srv.Addr, host: "a.test.", network: "ip6", wantReason: refusal.NXDomain},
		{name: "timeout", ns: silent, host: "a.test.", network: "ip4", wantReason: refusal.DNSTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewResolver([]netip.AddrPort{c.ns}, 100*time.Millisecond)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err := r.LookupNetIP(ctx, c.network, c.host)
			var de *net.DNSError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *net.DNSError", err)
			}
			if got := classifyDNS(err).Reason; got != c.wantReason {
				t.Errorf("classified %v as %v, want %v", err, got, c.wantReason)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) uint16 {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return uint16(port)
}

// startSilent returns a UDP nameserver address that never answers.
func startSilent(t *testing.T) netip.AddrPort {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// startServfail runs a nameserver that answers SERVFAIL to everything.
func startServfail(t *testing.T) netip.AddrPort {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeServerFailure)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() { defer close(done); srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { srv.Shutdown(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func BenchmarkDialLiteral(b *testing.B) {
	o := startOrigin(b)
	e := &Egress{Check: allowLoopback}
	target := Target{Host: "127.0.0.1", Port: o.port}
	b.ReportAllocs()
	for b.Loop() {
		conn, err := e.Dial(b.Context(), target)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}

func BenchmarkDialName(b *testing.B) {
	o := startOrigin(b)
	srv := dnstest.Start(b, map[string][]netip.Addr{"bench.test": {lo4}})
	e := &Egress{Resolver: NewResolver([]netip.AddrPort{srv.Addr}, time.Second), Check: allowLoopback}
	target := Target{Host: "bench.test", Port: o.port}
	b.ReportAllocs()
	for b.Loop() {
		conn, err := e.Dial(b.Context(), target)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}

// TestNewResolverTCPFallback answers truncated over UDP: the lookup must retry over TCP,
// through the same nameserver list and the deadline clamp.
func TestNewResolverTCPFallback(t *testing.T) {
	var mu sync.Mutex
	var tcpQueries int
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
			m.Truncated = true
			w.WriteMsg(m)
			return
		}
		mu.Lock()
		tcpQueries++
		mu.Unlock()
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA,
			Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)}}
		w.WriteMsg(m)
	})
	addr := startBoth(t, handler)
	r := NewResolver([]netip.AddrPort{addr}, time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	got, err := r.LookupNetIP(ctx, "ip4", "big.test.")
	if err != nil {
		t.Fatalf("LookupNetIP: %v", err)
	}
	if len(got) != 1 || got[0] != lo4 {
		t.Errorf("LookupNetIP = %v, want [%v]", got, lo4)
	}
	mu.Lock()
	defer mu.Unlock()
	if tcpQueries != 1 {
		t.Errorf("%d queries over TCP, want 1", tcpQueries)
	}
}

// startBoth runs handler on UDP and TCP on one loopback port.
func startBoth(t *testing.T, handler dns.Handler) netip.AddrPort {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	ln, err := net.Listen("tcp4", addr.String())
	if err != nil {
		pc.Close()
		t.Skipf("port of the UDP socket taken for TCP: %v", err)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs last: cleanups run in reverse
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() { srv.ActivateAndServe() })
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return addr
}

func TestCheckNameBeforeLookup(t *testing.T) {
	srv := dnstest.Start(t, map[string][]netip.Addr{"blocked.test": {lo4}, "fine.test": {lo4}})
	o := startOrigin(t)
	var asked []string
	e := &Egress{
		Resolver: NewResolver([]netip.AddrPort{srv.Addr}, time.Second),
		Check:    allowLoopback,
		CheckName: func(name string, port uint16) error {
			asked = append(asked, name)
			if name == "blocked.test" {
				return &refusal.Error{Reason: refusal.Blocked, Message: "blocked here"}
			}
			return nil
		},
	}
	_, err := e.Dial(context.Background(), Target{Host: "Blocked.Test.", Port: o.port})
	if got := refusal.ReasonOf(err); got != refusal.Blocked {
		t.Errorf("blocked name: reason %v, want blocked", got)
	}
	if n := srv.Queries("blocked.test", "A") + srv.Queries("blocked.test", "AAAA"); n != 0 {
		t.Errorf("a name refused before lookup was looked up %d times", n)
	}
	c, err := e.Dial(context.Background(), Target{Host: "fine.test", Port: o.port})
	if err != nil {
		t.Fatalf("allowed name: %v", err)
	}
	c.Close()
	if want := []string{"blocked.test", "fine.test"}; !slices.Equal(asked, want) {
		t.Errorf("CheckName saw %q, want the normalised names %q", asked, want)
	}
}
