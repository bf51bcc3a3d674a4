package egress

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// NewResolver returns a pure-Go *net.Resolver. With nameservers, every connection it opens
// (UDP, or TCP when an answer was truncated) goes to the next nameserver in turn, so that
// the resolver's retries move across them; a nameserver that cannot be reached over TCP is
// skipped. Empty nameservers means the system's (/etc/resolv.conf). A positive timeout
// bounds each exchange with one nameserver (the resolver's own default is 5 s), so a silent
// nameserver leaves time to ask the next one.
func NewResolver(nameservers []netip.AddrPort, timeout time.Duration) *net.Resolver {
	servers := append([]netip.AddrPort(nil), nameservers...)
	var turn atomic.Uint32
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		if len(servers) == 0 {
			c, err := d.DialContext(ctx, network, address)
			return prepare(ctx, c, timeout), err
		}
		first := int(turn.Add(1) - 1)
		var err error
		for i := range servers {
			s := servers[(first+i)%len(servers)]
			var c net.Conn
			if c, err = d.DialContext(ctx, network, s.String()); err == nil {
				return prepare(ctx, c, timeout), nil
			}
		}
		return nil, err
	}
	return &net.Resolver{PreferGo: true, Dial: dial}
}

// prepare makes a nameserver connection end with its exchange: the resolver reads under a
// deadline only, so without this a cancelled lookup would wait for its deadline.
func prepare(ctx context.Context, c net.Conn, timeout time.Duration) net.Conn {
	if c == nil {
		return nil
	}
	context.AfterFunc(ctx, func() { c.Close() })
	return clamp(c, timeout)
}

// clamp wraps a fresh connection so that no deadline the resolver sets lies further than
// timeout ahead. It keeps the connection's kind: the resolver frames DNS over a
// net.PacketConn as datagrams and over anything else as a stream.
func clamp(c net.Conn, timeout time.Duration) net.Conn {
	if timeout <= 0 {
		return c
	}
	switch c := c.(type) {
	case *net.UDPConn:
		return clampedUDP{c, timeout}
	case *net.TCPConn:
		return clampedTCP{c, timeout}
	}
	return c
}

type clampedUDP struct {
	*net.UDPConn
	timeout time.Duration
}

func (c clampedUDP) SetDeadline(t time.Time) error {
	return c.UDPConn.SetDeadline(earliest(t, c.timeout))
}

type clampedTCP struct {
	*net.TCPConn
	timeout time.Duration
}

func (c clampedTCP) SetDeadline(t time.Time) error {
	return c.TCPConn.SetDeadline(earliest(t, c.timeout))
}

// earliest returns t or now+timeout, whichever comes first; a zero t means no deadline.
func earliest(t time.Time, timeout time.Duration) time.Time {
	limit := time.Now().Add(timeout)
	if t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}
