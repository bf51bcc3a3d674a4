package policy

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"sortie.dev/sortie/internal/refusal"
)

// Errors NormalizeHost wraps in its *refusal.Error (errors.Is works through it).
var (
	// ErrBadHost: the host is empty, too long, has an empty label or a character a host
	// name cannot have, fails IDNA, or looks numeric but is no valid IPv4 spelling.
	ErrBadHost = errors.New("invalid host")
	// ErrZone: an IPv6 literal carries a zone identifier (fe80::1%eth0).
	ErrZone = errors.New("ipv6 zone identifiers are not accepted")
	// ErrLocalhost: the host is localhost or a name under .localhost (RFC 6761 §6.3).
	ErrLocalhost = errors.New("localhost is not reachable through an exit")
)

const (
	maxHostInput = 1024 // longest host accepted before normalisation
	maxName      = 253  // longest normalised name (RFC 1035, without the trailing dot)
	maxLabel     = 63
)

func badHost() error {
	return refusal.Wrap(refusal.Malformed, "the destination host is not valid", ErrBadHost)
}

// NormalizeHost turns a host as a client sent it (HTTP request target or Host, CONNECT
// authority, SOCKS domain name) into either a normalised name or an address, the way a
// browser would:
//
//   - a name is lower-cased, loses one trailing dot and goes through IDNA (UTS #46, lookup
//     profile) to its ASCII (punycode) form; labels may hold letters, digits, '-' and '_';
//   - `[IPv6]` (and a bare IPv6 literal) is an address; a zone identifier is refused;
//   - a host whose last label starts with a digit is parsed with the WHATWG URL standard's
//     IPv4 parser (decimal, octal with a leading 0, hex with 0x, one to four parts, the last
//     part filling the remaining bytes), so "127.1", "0x7f.1", "2130706433" and
//     "017700000001" are all 127.0.0.1; when that parse fails the host is malformed (no top
//     level domain starts with a digit);
//   - IPv4-mapped IPv6 addresses are unmapped.
//
// Exactly one of name and addr is set on success. Errors are *refusal.Error: Malformed for
// a host that cannot be parsed, Policy for localhost and names under .localhost. They never
// contain the host.
func NormalizeHost(host string) (name string, addr netip.Addr, err error) {
	if host == "" || len(host) > maxHostInput {
		return "", netip.Addr{}, badHost()
	}
	if host[0] == '[' {
		return bracketed(host)
	}
	if strings.IndexByte(host, ':') >= 0 {
		return literal6(host)
	}
	return hostName(host)
}

func bracketed(host string) (string, netip.Addr, error) {
	if len(host) < 2 || host[len(host)-1] != ']' {
		return "", netip.Addr{}, badHost()
	}
	return literal6(host[1 : len(host)-1])
}

func literal6(s string) (string, netip.Addr, error) {
	if strings.IndexByte(s, '%') >= 0 {
		return "", netip.Addr{}, refusal.Wrap(refusal.Malformed, "IPv6 zone identifiers are not accepted", ErrZone)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", netip.Addr{}, badHost()
	}
	return "", a.Unmap(), nil
}

func hostName(host string) (string, netip.Addr, error) {
	if len(host) > 1 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	name, ok := toASCII(host)
	if !ok || !validName(name) {
		return "", netip.Addr{}, badHost()
	}
	if last := name[strings.LastIndexByte(name, '.')+1:]; last[0] >= '0' && last[0] <= '9' {
		a, ok := parseIPv4Browser(name)
		if !ok {
			return "", netip.Addr{}, badHost()
		}
		return "", a, nil
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return "", netip.Addr{}, refusal.Wrap(refusal.Policy, "this exit does not connect to localhost", ErrLocalhost)
	}
	return name, netip.Addr{}, nil
}

// toASCII lower-cases a plain ASCII name and sends anything else (non-ASCII, or a label
// already in punycode, which must decode to a valid label) through IDNA's lookup profile.
func toASCII(host string) (string, bool) {
	if lower := strings.ToLower(host); isASCII(host) && !strings.Contains(lower, "xn--") {
		return lower, true
	}
	if !utf8.ValidString(host) {
		return "", false
	}
	s, err := idna.Lookup.ToASCII(host)
	if err != nil || s == "" {
		return "", false
	}
	// The result must itself be a valid lookup name, so that normalising is idempotent.
	if again, err := idna.Lookup.ToASCII(s); err != nil || again != s {
		return "", false
	}
	if len(s) > 1 && s[len(s)-1] == '.' { // a trailing full stop (U+3002, U+FF0E...) mapped to '.'
		s = s[:len(s)-1]
	}
	return s, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validName checks a lower-case ASCII name: length, non-empty labels of at most 63 bytes, and
// only letters, digits, '-' and '_'.
func validName(name string) bool {
	if name == "" || len(name) > maxName {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > maxLabel {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// parseIPv4Browser is the WHATWG URL standard's IPv4 parser (https://url.spec.whatwg.org/#concept-ipv4-parser).
func parseIPv4Browser(s string) (netip.Addr, bool) {
	var nums [4]uint64
	n := 0
	for part := range strings.SplitSeq(s, ".") {
		if n == 4 {
			return netip.Addr{}, false
		}
		v, ok := parseIPv4Number(part)
		if !ok {
			return netip.Addr{}, false
		}
		nums[n] = v
		n++
	}
	for i := 0; i < n-1; i++ {
		if nums[i] > 255 {
			return netip.Addr{}, false
		}
	}
	if nums[n-1] >= 1<<(8*(5-n)) {
		return netip.Addr{}, false
	}
	ip := nums[n-1]
	for i := 0; i < n-1; i++ {
		ip += nums[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

// parseIPv4Number reads one part: "0x" or "0X" starts hex, a leading "0" octal, else decimal.
// Values saturate just above 2^32, which no valid part reaches.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, radix = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, radix = s[1:], 8
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := digitValue(s[i])
		if !ok || d >= radix {
			return 0, false
		}
		v = min(v*radix+d, 1<<32+1)
	}
	return v, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}
