package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/refusal"
)

const (
	a6  = "2001:db8::1"
	b6  = "2001:db8::2"
	c6  = "2001:db8::3"
	a4  = "192.0.2.1"
	b4  = "192.0.2.2"
	c4  = "192.0.2.3"
	ms  = time.Millisecond
	sec = time.Second
)

// ap is the dial address of addr on port 443.
func ap(addr string) string {
	return netip.AddrPortFrom(netip.MustParseAddr(addr), 443).String()
}

type raceCase struct {
	name           string
	host           string                         // default "t.example"
	v6, v4         *answer                        // nil: no such name for that family
	dials          map[string]behaviour           // by ap(addr); missing addresses hang
	check          func(netip.Addr, uint16) error // nil: allowAll
	own            func(netip.Addr, uint16) bool
	dialTimeout    time.Duration
	resolveTimeout time.Duration
	wantAttempts   []attempt
	wantConn       string         // ap of the connection Dial returns; "" for an error
	wantReason     refusal.Reason // when wantConn is ""
}

func (c raceCase) run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host := c.host
		if host == "" {
			host = "t.example"
		}
		fr := &fakeResolver{answers: map[string]map[string]answer{}}
		fam := map[string]answer{}
		if c.v6 != nil {
			fam["ip6"] = *c.v6
		}
		if c.v4 != nil {
			fam["ip4"] = *c.v4
		}
		if len(fam) > 0 {
			fr.answers[host] = fam
		}
		fd := newFakeDialer(c.dials)
		check := c.check
		if check == nil {
			check = allowAll
		}
		e := &Egress{Resolver: fr, Check: check, Own: c.own, DialTimeout: c.dialTimeout,
			ResolveTimeout: c.resolveTimeout, dialContext: fd.dial}
		conn, err := e.Dial(t.Context(), Target{Host: host, Port: 443})
		if diff := cmp.Diff(c.wantAttempts, fd.log()); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
		if c.wantConn != "" {
			if err != nil {
				t.Fatalf("Dial: %v, want a connection to %s", err, c.wantConn)
			}
			if got := conn.(*trackedConn).addr; got != c.wantConn {
				t.Errorf("connected to %s, want %s", got, c.wantConn)
			}
			conn.Close()
		} else {
			if err == nil {
				conn.Close()
				t.Fatalf("Dial succeeded, want reason %v", c.wantReason)
			}
			if got := refusal.ReasonOf(err); got != c.wantReason {
				t.Errorf("reason = %v (%v), want %v", got, err, c.wantReason)
			}
		}
		if open := fd.open(); len(open) > 0 {
			t.Errorf("connections left open: %v", open)
		}
	})
}

func TestDialHappyEyeballs(t *testing.T) {
	cases := []raceCase{
		{
			name:         "ipv6 first when both families answer together",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        map[string]behaviour{ap(a6): {}, ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a6)}},
			wantConn:     ap(a6),
		},
		{
			name:         "A first, AAAA within the resolution delay",
			v6:           &answer{addrs: addrs(a6), delay: 30 * ms},
			v4:           &answer{addrs: addrs(a4)},
			dials:        map[string]behaviour{ap(a6): {}, ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a6), At: 30 * ms}},
			wantConn:     ap(a6),
		},
		{
			name:         "AAAA later than the resolution delay",
			v6:           &answer{addrs: addrs(a6), delay: 200 * ms},
			v4:           &answer{addrs: addrs(a4)},
			dials:        map[string]behaviour{ap(a6): {}, ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a4), At: 50 * ms}},
			wantConn:     ap(a4),
		},
		{
			name:         "AAAA fails fast, A used at once",
			v6:           &answer{err: &net.DNSError{Err: "server misbehaving"}},
			v4:           &answer{addrs: addrs(a4), delay: 10 * ms},
			dials:        map[string]behaviour{ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a4), At: 10 * ms}},
			wantConn:     ap(a4),
		},
		{
			name:         "blackholed first address, second starts after 250ms and wins",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        map[string]behaviour{ap(a6): {hang: true}, ap(a4): {delay: 5 * ms}},
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4), At: 250 * ms}},
			wantConn:     ap(a4),
		},
		{
			name:         "slow first address still wins after the second started",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        map[string]behaviour{ap(a6): {delay: 280 * ms}, ap(a4): {hang: true}},
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4), At: 250 * ms}},
			wantConn:     ap(a6),
		},
		{
			name:  "a failed attempt starts the next at once",
			v6:    &answer{addrs: addrs(a6)},
			v4:    &answer{addrs: addrs(a4, b4)},
			dials: map[string]behaviour{ap(a6): {delay: 10 * ms, err: errRefused}, ap(a4): {err: errRefused}, ap(b4): {}},
			wantAttempts: []attempt{
				{Addr: ap(a6)}, {Addr: ap(a4), At: 10 * ms}, {Addr: ap(b4), At: 10 * ms},
			},
			wantConn: ap(b4),
		},
		{
			name:        "families interleave, at most four in flight, then dial timeout",
			v6:          &answer{addrs: addrs(a6, b6, c6)},
			v4:          &answer{addrs: addrs(a4, b4, c4)},
			dialTimeout: 2 * sec,
			wantAttempts: []attempt{
				{Addr: ap(a6)}, {Addr: ap(a4), At: 250 * ms},
				{Addr: ap(b6), At: 500 * ms}, {Addr: ap(b4), At: 750 * ms},
			},
			wantReason: refusal.DialTimeout,
		},
		{
			name:        "late AAAA joins the interleaving",
			v6:          &answer{addrs: addrs(a6), delay: 100 * ms},
			v4:          &answer{addrs: addrs(a4, b4)},
			dialTimeout: sec,
			wantAttempts: []attempt{
				{Addr: ap(a4), At: 50 * ms}, {Addr: ap(a6), At: 300 * ms}, {Addr: ap(b4), At: 550 * ms},
			},
			wantReason: refusal.DialTimeout,
		},
		{
			name:         "an address in both answers is dialled once",
			v6:           &answer{addrs: addrs("::ffff:"+a4, a6)},
			v4:           &answer{addrs: addrs(a4), delay: 10 * ms},
			dials:        map[string]behaviour{ap(a4): {err: errRefused}, ap(a6): {err: errRefused}},
			wantAttempts: []attempt{{Addr: ap(a4)}, {Addr: ap(a6)}},
			wantReason:   refusal.Refused,
		},
		{
			name:         "at most 16 addresses per family",
			v4:           &answer{addrs: many4(20)},
			dials:        refuseEach(many4(20)),
			wantAttempts: attemptsAt0(many4(16)),
			wantReason:   refusal.Refused,
		},
		{
			name:         "IPv4-mapped AAAA is dialled as IPv4",
			v6:           &answer{addrs: addrs("::ffff:" + a4)},
			dials:        map[string]behaviour{ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a4)}},
			wantConn:     ap(a4),
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestDialErrors(t *testing.T) {
	servfail := &net.DNSError{Err: "server misbehaving", Name: "t.example"}
	both := func(b6, b4 behaviour) map[string]behaviour {
		return map[string]behaviour{ap(a6): b6, ap(a4): b4}
	}
	refuseAll := func(netip.Addr, uint16) error { return refusal.New(refusal.Policy, "no") }
	cases := []raceCase{
		{name: "nxdomain", wantReason: refusal.NXDomain},
		{
			name:       "no addresses in either family",
			v6:         &answer{},
			v4:         &answer{},
			wantReason: refusal.NXDomain,
		},
		{
			name:       "servfail",
			v6:         &answer{err: servfail},
			v4:         &answer{err: servfail},
			wantReason: refusal.DNSFailure,
		},
		{
			name:       "A servfail beats AAAA nodata",
			v4:         &answer{err: servfail},
			wantReason: refusal.DNSFailure,
		},
		{
			name:           "lookup timeout",
			v6:             &answer{hang: true},
			v4:             &answer{hang: true},
			resolveTimeout: sec,
			wantReason:     refusal.DNSTimeout,
		},
		{
			name:           "A timeout beats AAAA nodata",
			v4:             &answer{hang: true},
			resolveTimeout: sec,
			wantReason:     refusal.DNSTimeout,
		},
		{
			name:         "connection refused",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        both(behaviour{err: errRefused}, behaviour{err: errRefused}),
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4)}},
			wantReason:   refusal.Refused,
		},
		{
			name:         "refused beats network unreachable",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        both(behaviour{err: errNetUnreach}, behaviour{err: errRefused}),
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4)}},
			wantReason:   refusal.Refused,
		},
		{
			name:         "network unreachable",
			v6:           &answer{addrs: addrs(a6)},
			dials:        both(behaviour{err: errNetUnreach}, behaviour{}),
			wantAttempts: []attempt{{Addr: ap(a6)}},
			wantReason:   refusal.NetUnreach,
		},
		{
			name:         "host unreachable beats network unreachable",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        both(behaviour{err: errNetUnreach}, behaviour{err: errHostUnreach}),
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4)}},
			wantReason:   refusal.HostUnreach,
		},
		{
			name:         "timeout beats network unreachable",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			dials:        both(behaviour{err: errNetUnreach}, behaviour{hang: true}),
			dialTimeout:  sec,
			wantAttempts: []attempt{{Addr: ap(a6)}, {Addr: ap(a4)}},
			wantReason:   refusal.DialTimeout,
		},
		{
			name:         "a dial failure beats a lookup failure of the other family",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{err: servfail},
			dials:        both(behaviour{err: errNetUnreach}, behaviour{}),
			wantAttempts: []attempt{{Addr: ap(a6)}},
			wantReason:   refusal.NetUnreach,
		},
		{
			name:       "every address refused by Check: nothing dialled",
			v6:         &answer{addrs: addrs(a6)},
			v4:         &answer{addrs: addrs(a4, b4)},
			check:      refuseAll,
			wantReason: refusal.Policy,
		},
		{
			name: "blocked beats policy",
			v6:   &answer{addrs: addrs(a6)},
			v4:   &answer{addrs: addrs(a4)},
			check: func(a netip.Addr, _ uint16) error {
				if a.Is4() {
					return refusal.New(refusal.Blocked, "blocked")
				}
				return refusal.New(refusal.Policy, "no")
			},
			wantReason: refusal.Blocked,
		},
		{
			name:         "a dial failure beats a Check refusal",
			v6:           &answer{addrs: addrs(a6)},
			v4:           &answer{addrs: addrs(a4)},
			check:        func(a netip.Addr, _ uint16) error { return refuseIf(a.Is6()) },
			dials:        both(behaviour{}, behaviour{err: errRefused}),
			wantAttempts: []attempt{{Addr: ap(a4)}},
			wantReason:   refusal.Refused,
		},
		{
			name:       "own address refused even when Check allows it",
			v6:         &answer{addrs: addrs(a6)},
			v4:         &answer{addrs: addrs(a4)},
			own:        func(netip.Addr, uint16) bool { return true },
			wantReason: refusal.Policy,
		},
		{
			name:       "default Check refuses loopback",
			v4:         &answer{addrs: addrs("127.0.0.1")},
			check:      Builtin,
			wantReason: refusal.Policy,
		},
		{
			name:       "localhost refused before lookup",
			host:       "LocalHost.",
			v4:         &answer{addrs: addrs(a4)},
			wantReason: refusal.Policy,
		},
		{
			name:       "malformed host",
			host:       "exa mple.com",
			wantReason: refusal.Malformed,
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// many4 returns n addresses from 192.0.2.1 on.
func many4(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
	}
	return out
}

func refuseEach(as []netip.Addr) map[string]behaviour {
	m := map[string]behaviour{}
	for _, a := range as {
		m[ap(a.String())] = behaviour{err: errRefused}
	}
	return m
}

func attemptsAt0(as []netip.Addr) []attempt {
	var out []attempt
	for _, a := range as {
		out = append(out, attempt{Addr: ap(a.String())})
	}
	return out
}

func refuseIf(b bool) error {
	if b {
		return refusal.New(refusal.Policy, "no")
	}
	return nil
}

func TestDialLiteral(t *testing.T) {
	cases := []raceCase{
		{
			name:         "ipv4",
			host:         a4,
			dials:        map[string]behaviour{ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a4)}},
			wantConn:     ap(a4),
		},
		{
			name:         "bracketed ipv6",
			host:         "[" + a6 + "]",
			dials:        map[string]behaviour{ap(a6): {}},
			wantAttempts: []attempt{{Addr: ap(a6)}},
			wantConn:     ap(a6),
		},
		{
			name:         "ipv4-mapped literal dialled as ipv4",
			host:         "[::ffff:" + a4 + "]",
			dials:        map[string]behaviour{ap(a4): {}},
			wantAttempts: []attempt{{Addr: ap(a4)}},
			wantConn:     ap(a4),
		},
		{
			name:       "refused by Check",
			host:       a4,
			check:      func(netip.Addr, uint16) error { return refusal.New(refusal.Blocked, "b") },
			wantReason: refusal.Blocked,
		},
		{
			name:       "own address",
			host:       a4,
			own:        func(a netip.Addr, p uint16) bool { return a == netip.MustParseAddr(a4) && p == 443 },
			wantReason: refusal.Policy,
		},
		{
			name:         "timeout",
			host:         a4,
			dialTimeout:  sec,
			wantAttempts: []attempt{{Addr: ap(a4)}},
			wantReason:   refusal.DialTimeout,
		},
		{
			name:         "host unreachable",
			host:         a6,
			dials:        map[string]behaviour{ap(a6): {err: errHostUnreach}},
			wantAttempts: []attempt{{Addr: ap(a6)}},
			wantReason:   refusal.HostUnreach,
		},
		{
			name:       "zone id",
			host:       "[fe80::1%eth0]",
			wantReason: refusal.Malformed,
		},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// TestDialChecksEveryAddressBeforeItsAttempt records Check calls and attempts on one clock.
func TestDialChecksEveryAddressBeforeItsAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var events []string
		fd := newFakeDialer(nil) // every address hangs
		fr := &fakeResolver{answers: map[string]map[string]answer{"t.example": {
			"ip6": {addrs: addrs(a6, b6)},
			"ip4": {addrs: addrs(a4, b4)},
		}}}
		start := time.Now()
		e := &Egress{
			Resolver:    fr,
			DialTimeout: 2 * sec,
			Check: func(a netip.Addr, _ uint16) error {
				mu.Lock()
				events = append(events, "check "+a.String()+" "+time.Since(start).String())
				mu.Unlock()
				return refuseIf(a == netip.MustParseAddr(a4))
			},
			dialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
				mu.Lock()
				events = append(events, "dial "+address+" "+time.Since(start).String())
				mu.Unlock()
				return fd.dial(ctx, network, address)
			},
		}
		_, err := e.Dial(t.Context(), Target{Host: "t.example", Port: 443})
		if got := refusal.ReasonOf(err); got != refusal.DialTimeout {
			t.Errorf("reason = %v, want %v", got, refusal.DialTimeout)
		}
		want := []string{
			"check 2001:db8::1 0s", "dial [2001:db8::1]:443 0s",
			"check 192.0.2.1 250ms", // refused: the next address goes at once
			"check 2001:db8::2 250ms", "dial [2001:db8::2]:443 250ms",
			"check 192.0.2.2 500ms", "dial 192.0.2.2:443 500ms",
		}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, events); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// TestDialClosesLosers makes two attempts connect at the same instant.
func TestDialClosesLosers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fr := &fakeResolver{answers: map[string]map[string]answer{"t.example": {
			"ip6": {addrs: addrs(a6)},
			"ip4": {addrs: addrs(a4)},
		}}}
		fd := newFakeDialer(map[string]behaviour{ap(a6): {delay: 300 * ms}, ap(a4): {delay: 50 * ms}})
		e := &Egress{Resolver: fr, Check: allowAll, dialContext: fd.dial}
		conn, err := e.Dial(t.Context(), Target{Host: "t.example", Port: 443})
		mustT(t, err)
		synctest.Wait()
		winner := conn.(*trackedConn).addr
		if diff := cmp.Diff([]string{winner}, fd.open()); diff != "" {
			t.Errorf("open connections (-want +got):\n%s", diff)
		}
		if n := len(fd.log()); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
		conn.Close()
	})
}

func TestDialContext(t *testing.T) {
	hang := map[string]map[string]answer{"t.example": {"ip6": {hang: true}, "ip4": {hang: true}}}
	ready := map[string]map[string]answer{"t.example": {"ip4": {addrs: addrs(a4)}}}
	cases := []struct {
		name       string
		answers    map[string]map[string]answer
		deadline   time.Duration // of the caller's context; 0: cancelled after cancelAt
		cancelAt   time.Duration
		wantReason refusal.Reason
		wantErr    error
	}{
		{name: "cancelled during lookup", answers: hang, cancelAt: 100 * ms,
			wantReason: refusal.Unknown, wantErr: context.Canceled},
		{name: "cancelled during dial", answers: ready, cancelAt: 100 * ms,
			wantReason: refusal.Unknown, wantErr: context.Canceled},
		{name: "deadline during lookup", answers: hang, deadline: 100 * ms,
			wantReason: refusal.DNSTimeout, wantErr: context.DeadlineExceeded},
		{name: "deadline during dial", answers: ready, deadline: 100 * ms,
			wantReason: refusal.DialTimeout, wantErr: context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fd := newFakeDialer(nil)
				e := &Egress{Resolver: &fakeResolver{answers: c.answers}, Check: allowAll, dialContext: fd.dial}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if c.deadline > 0 {
					ctx, cancel = context.WithTimeout(ctx, c.deadline)
					defer cancel()
				} else {
					time.AfterFunc(c.cancelAt, cancel)
				}
				start := time.Now()
				_, err := e.Dial(ctx, Target{Host: "t.example", Port: 443})
				if got := refusal.ReasonOf(err); got != c.wantReason {
					t.Errorf("reason = %v (%v), want %v", got, err, c.wantReason)
				}
				if !errors.Is(err, c.wantErr) {
					t.Errorf("error %v is not %v", err, c.wantErr)
				}
				if took := time.Since(start); took != 100*ms {
					t.Errorf("Dial returned after %v, want 100ms", took)
				}
			})
		})
	}
}

// TestDialMessagesNameNothing checks that no public message names the destination.
func TestDialMessagesNameNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fr := &fakeResolver{answers: map[string]map[string]answer{"secret.example": {
			"ip4": {addrs: addrs(a4)},
		}}}
		fd := newFakeDialer(map[string]behaviour{ap(a4): {err: errRefused}})
		e := &Egress{Resolver: fr, Check: allowAll, dialContext: fd.dial}
		for _, host := range []string{"secret.example", a4, "nx.example", "bad host"} {
			_, err := e.Dial(t.Context(), Target{Host: host, Port: 443})
			if err == nil {
				t.Fatalf("Dial(%q) succeeded", host)
			}
			msg := err.Error()
			for _, leak := range []string{"secret", "192.0.2", "443", "nx.example", "bad"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q names %q", msg, leak)
				}
			}
		}
	})
}
