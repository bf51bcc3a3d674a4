package gateway

import (
	"net"
	"net/netip"
	"sync"
)

// DefaultMaxClientHandshakes is how many connections one source may hold in their handshake.
const DefaultMaxClientHandshakes = 16

// shakers counts the connections each source holds in their handshake, so that a few
// slowloris sources cannot take every slot of MaxHandshakes. A source is an IPv4 address (an
// i2pd per-peer 127.a.b.c included) or an IPv6 /64. Entries exist only while connections are
// in their handshake: nothing about a source outlives them.
type shakers struct {
	mu sync.Mutex
	n  map[netip.Addr]int
}

// sourceOf returns the key of a connection's source, or the zero Addr when unknown.
func sourceOf(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// enter counts one more handshake for a's source; it reports false, counting nothing, when
// the source already holds max.
func (s *shakers) enter(a net.Addr, max int) (netip.Addr, bool) {
	src := sourceOf(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[netip.Addr]int{}
	}
	if s.n[src] >= max {
		return src, false
	}
	s.n[src]++
	return src, true
}

// leave ends one handshake of src.
func (s *shakers) leave(src netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[src] <= 1 {
		delete(s.n, src)
		return
	}
	s.n[src]--
}
