package resolve

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"
)

// readResolvConf returns the nameservers of a resolv.conf file, with its port (53 unless the
// file says otherwise).
func readResolvConf(path string) ([]netip.AddrPort, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read resolv.conf: %w", err)
	}
	port, err := strconv.ParseUint(cc.Port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("resolv.conf port: %w", err)
	}
	var out []netip.AddrPort
	for _, s := range cc.Servers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("resolv.conf nameserver: %w", err)
		}
		out = append(out, netip.AddrPortFrom(a, uint16(port)))
	}
	if len(out) == 0 {
		return nil, errors.New("resolv.conf lists no nameserver")
	}
	return out, nil
}
