package parse

import (
	"iter"
	"net/netip"
	"regexp"
	"strings"
)

// addrHit is one IP address found in a text.
type addrHit struct {
	addr netip.Addr
	// port is the port written right after the address ("203.0.113.5:8080",
	// "[2001:db8::5]:443", "203.0.113.5 port 22", "203.0.113.5(51413)"), 0 when none.
	port int
	// start and end delimit the address, and the port when there is one.
	start, end int
}

// Addresses returns the IP addresses named in text, each once, in order of appearance, at
// most MaxAddresses. Obfuscated spellings count ("203.0.113[.]5", "203(dot)0(dot)113(dot)5",
// "203 dot 0 dot 113 dot 5"); IPv4-mapped IPv6 addresses are returned as IPv4. Runs of digits
// and dots that are not exactly four octets ("1.2.3.4.5", "999.1.1.1") are not addresses, nor
// are prefixes ("198.51.100.0/24"), unspecified addresses, and IPv6 spellings without a digit
// ("a::b").
func Addresses(text string) []netip.Addr {
	var c collector
	c.scan(text)
	return c.addrs
}

// addrHits yields the addresses in s, which must be defanged already, in order.
func addrHits(s string) iter.Seq[addrHit] {
	return func(yield func(addrHit) bool) {
		for i := 0; i < len(s); {
			h, next, ok := addrAt(s, i)
			if ok {
				if !yield(h) {
					return
				}
				i = h.end
				continue
			}
			i = next
		}
	}
}

// addrAt tries to read an address starting at s[i]. When there is none it returns the next
// position worth trying.
func addrAt(s string, i int) (addrHit, int, bool) {
	c := s[i]
	if c == '[' {
		if h, ok := bracketed6(s, i); ok {
			return h, 0, true
		}
		return addrHit{}, i + 1, false
	}
	if !isHex(c) && c != ':' {
		return addrHit{}, i + 1, false
	}
	if i > 0 && !startBoundary(s[i-1], isDigit(c)) {
		return addrHit{}, skipWord(s, i), false
	}
	if h, ok := plain6(s, i); ok && (i == 0 || s[i-1] != ':' || i >= 5 && strings.EqualFold(s[i-5:i], "IPv6:")) {
		if isPrefix(s, i, h.end, 128) {
			return addrHit{}, h.end, false
		}
		return withPort(s, h), 0, true
	}
	if isDigit(c) {
		if a, end, ok := ipv4At(s, i); ok {
			if isPrefix(s, i, end, 32) || a.IsUnspecified() {
				return addrHit{}, end, false
			}
			return withPort(s, addrHit{addr: a, start: i, end: end}), 0, true
		}
	}
	return addrHit{}, skipWord(s, i), false
}

// isPrefix reports whether the address at s[start:end] is the start of a prefix
// ("198.51.100.0/24", "2001:db8::/32"): a prefix is not an address. An address that is
// the host of a URL ("//203.0.113.5/24/") is not a prefix.
func isPrefix(s string, start, end, bits int) bool {
	if end >= len(s) || s[end] != '/' || start >= 2 && s[start-2:start] == "//" {
		return false
	}
	j, n := end+1, 0
	for j < len(s) && isDigit(s[j]) && j-end <= 3 {
		n = n*10 + int(s[j]-'0')
		j++
	}
	if j == end+1 || j-end > 4 || n > bits {
		return false
	}
	return j == len(s) || !isAlnum(s[j]) && s[j] != '/' && s[j] != '.' || s[j] == '.' && (j+1 == len(s) || !isAlnum(s[j+1]))
}

// startBoundary reports whether an address may begin after byte c: not inside a word, a
// number or a dotted or colon-separated run. A colon may precede an IPv4 address
// ("src:203.0.113.5") when digit is true.
func startBoundary(c byte, digit bool) bool {
	switch {
	case isAlnum(c), c == '.', c == '_':
		return false
	case c == ':':
		return digit
	}
	return true
}

// skipWord returns the position after the run of letters and digits at s[i], or i+1.
func skipWord(s string, i int) int {
	j := i + 1
	if !isAlnum(s[i]) {
		return j
	}
	for j < len(s) && isAlnum(s[j]) {
		j++
	}
	return j
}

// ipv4At reads a dotted-quad at s[i]. Octets may carry leading zeros (read as decimal);
// the address must not continue with more digits, letters or dotted parts.
func ipv4At(s string, i int) (netip.Addr, int, bool) {
	var oct [4]byte
	j := i
	for k := 0; k < 4; k++ {
		if k > 0 {
			if j >= len(s) || s[j] != '.' {
				return netip.Addr{}, 0, false
			}
			j++
		}
		n, d := 0, 0
		for j < len(s) && isDigit(s[j]) && d < 4 {
			n = n*10 + int(s[j]-'0')
			j++
			d++
		}
		if d == 0 || d > 3 || n > 255 {
			return netip.Addr{}, 0, false
		}
		oct[k] = byte(n)
	}
	if j < len(s) {
		c := s[j]
		if isAlnum(c) || c == '_' {
			return netip.Addr{}, 0, false
		}
		if c == '.' && j+1 < len(s) && isAlnum(s[j+1]) {
			return netip.Addr{}, 0, false
		}
	}
	return netip.AddrFrom4(oct), j, true
}

// plain6 reads an IPv6 address (without brackets) at s[i].
func plain6(s string, i int) (addrHit, bool) {
	j, colons := i, 0
	for j < len(s) && j-i < 64 && (isHex(s[j]) || s[j] == ':' || s[j] == '.') {
		if s[j] == ':' {
			colons++
		}
		j++
	}
	if colons < 2 {
		return addrHit{}, false
	}
	if j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
		return addrHit{}, false
	}
	cand := s[i:j]
	for range 3 {
		if a, err := netip.ParseAddr(cand); err == nil && plausible6(a) {
			return addrHit{addr: a.Unmap(), start: i, end: i + len(cand)}, true
		}
		if !strings.HasSuffix(cand, ".") && !strings.HasSuffix(cand, ":") {
			break
		}
		cand = cand[:len(cand)-1]
	}
	return addrHit{}, false
}

// plausible6 reports whether a, read as IPv6, is worth reporting: not unspecified, no
// zone, and with a digit in its canonical spelling ("a::b" in program code is no address).
func plausible6(a netip.Addr) bool {
	return a.Is6() && a.Zone() == "" && !a.IsUnspecified() && strings.ContainsAny(a.Unmap().String(), "0123456789")
}

// bracketed6 reads "[2001:db8::5]" and "[2001:db8::5]:443" at s[i].
func bracketed6(s string, i int) (addrHit, bool) {
	end := strings.IndexByte(s[i+1:min(len(s), i+50)], ']')
	if end < 2 {
		return addrHit{}, false
	}
	a, err := netip.ParseAddr(s[i+1 : i+1+end])
	if err != nil || !plausible6(a) {
		return addrHit{}, false
	}
	return withPort(s, addrHit{addr: a.Unmap(), start: i, end: i + end + 2}), true
}

// portAfter matches a port written after an address: " port 22", ", src port 22".
var portAfter = regexp.MustCompile(`^,?[ \t]{0,3}(?:(?i:source|src)[ \t]+)?(?i:port)[ \t]{0,3}[:#=]?[ \t]{0,3}(\d{1,5})\b`)

// withPort extends h with the port written right after it, if any.
func withPort(s string, h addrHit) addrHit {
	rest := s[h.end:min(len(s), h.end+40)]
	if p, n := numericPort(rest); p > 0 {
		h.port, h.end = p, h.end+n
		return h
	}
	if m := portAfter.FindStringSubmatchIndex(rest); m != nil {
		if p := atoiPort(rest[m[2]:m[3]]); p > 0 {
			h.port, h.end = p, h.end+m[1]
		}
	}
	return h
}

// numericPort reads ":8080" or "(51413)" at the start of rest and returns the port and the
// bytes it takes; 0 when there is none. ":8080" must not run on into more digits, letters,
// a colon or a dotted number.
func numericPort(rest string) (port, n int) {
	if len(rest) < 2 || rest[0] != ':' && rest[0] != '(' {
		return 0, 0
	}
	j := 1
	for j < len(rest) && isDigit(rest[j]) && j <= 5 {
		j++
	}
	if j == 1 || j < len(rest) && isDigit(rest[j]) {
		return 0, 0
	}
	if rest[0] == '(' {
		if j == len(rest) || rest[j] != ')' {
			return 0, 0
		}
		return parsePort(rest[1:j]), j + 1
	}
	if j < len(rest) {
		next := rest[j]
		if isAlnum(next) || next == ':' || next == '.' && j+1 < len(rest) && isDigit(rest[j+1]) {
			return 0, 0
		}
	}
	return parsePort(rest[1:j]), j
}
