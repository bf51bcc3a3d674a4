package egress

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// answer is what fakeResolver returns for one name and family after delay.
type answer struct {
	addrs []netip.Addr
	err   error // returned instead of addrs
	delay time.Duration
	hang  bool // never answer; return when ctx is done
}

// fakeResolver answers from a table; unknown names are NXDOMAIN. It honours ctx as
// *net.Resolver does: a deadline is a timeout DNSError.
type fakeResolver struct {
	answers map[string]map[string]answer // name -> "ip4"/"ip6" -> answer
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	a, ok := f.answers[host][network]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var wait <-chan time.Time
	if !a.hang {
		wait = time.After(a.delay)
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, &net.DNSError{Err: ctx.Err().Error(), Name: host,
			IsTimeout: ctx.Err() == context.DeadlineExceeded}
	}
	return a.addrs, a.err
}

// behaviour is what fakeDialer does for one address.
type behaviour struct {
	delay time.Duration // before the outcome
	err   error         // the outcome; nil means a connection
	hang  bool          // never connect; fail when ctx is done
}

// attempt records one call to fakeDialer.
type attempt struct {
	Addr string
	At   time.Duration // since the fakeDialer was made
}

// fakeDialer stands in for the network. Addresses not in its table hang.
type fakeDialer struct {
	start time.Time
	table map[string]behaviour

	mu       sync.Mutex
	attempts []attempt
	conns    []*trackedConn
}

func newFakeDialer(table map[string]behaviour) *fakeDialer {
	return &fakeDialer{start: time.Now(), table: table}
}

func (f *fakeDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	f.mu.Lock()
	f.attempts = append(f.attempts, attempt{Addr: address, At: time.Since(f.start)})
	f.mu.Unlock()
	b, ok := f.table[address]
	if !ok {
		b.hang = true
	}
	var wait <-chan time.Time
	if !b.hang {
		wait = time.After(b.delay)
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	if b.err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.OpError{Op: "connect", Err: b.err}}
	}
	c, peer := net.Pipe()
	peer.Close()
	tc := &trackedConn{Conn: c, addr: address}
	f.mu.Lock()
	f.conns = append(f.conns, tc)
	f.mu.Unlock()
	return tc, nil
}

func (f *fakeDialer) log() []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]attempt(nil), f.attempts...)
}

// open returns the addresses of connections made and not closed.
func (f *fakeDialer) open() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var open []string
	for _, c := range f.conns {
		if !c.isClosed() {
			open = append(open, c.addr)
		}
	}
	return open
}

type trackedConn struct {
	net.Conn
	addr   string
	mu     sync.Mutex
	closed bool
}

func (c *trackedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *trackedConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// allowAll is a Check that allows every address.
func allowAll(netip.Addr, uint16) error { return nil }

var (
	errRefused     = syscall.ECONNREFUSED
	errNetUnreach  = syscall.ENETUNREACH
	errHostUnreach = syscall.EHOSTUNREACH
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func mustT(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
