package bayes

import (
	"net/netip"
	"net/url"
	"strings"
)

// collapseDigits replaces every run of DigitRun or more ASCII digits by "#".
func collapseDigits(s string) string {
	run, long := 0, false
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			long = long || run >= DigitRun
		} else {
			run = 0
		}
	}
	if !long {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		switch {
		case j-i >= DigitRun:
			b.WriteString(digits)
			i = j
		case j > i:
			b.WriteString(s[i:j])
			i = j
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

var urlSchemes = []string{"http://", "https://", "hxxp://", "hxxps://", "ftp://"}

func isURL(s string) bool {
	for _, p := range urlSchemes {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

// url adds a URL whole, its host (with the host's parts) and the words of its path.
func (t *tokens) url(prefix, s string) {
	t.add(prefix, s)
	u, err := url.Parse(strings.Replace(s, "hxxp", "http", 1))
	if err != nil || u.Host == "" {
		t.words(prefix, s)
		return
	}
	host := u.Hostname()
	t.add(prefix, "url:"+host)
	if !t.ip(prefix, host) && isHostname(host) {
		t.host(prefix, host)
	}
	t.words(prefix, u.EscapedPath())
}

// address adds a mail address whole, its local part's words and its domain (with the
// domain's parts). It returns false when s is not a mail address.
func (t *tokens) address(prefix, s string) bool {
	s = strings.ToLower(strings.Trim(s, "<>"))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !isHostname(domain) {
		return false
	}
	t.add(prefix, s)
	t.words(prefix, local)
	t.host(prefix, domain)
	return true
}

// ip adds an IP address (optionally with a port) whole and its network (the /24 of an IPv4
// address, the /48 of an IPv6 address). It returns false when s is not an address.
func (t *tokens) ip(prefix, s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return false
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	t.add(prefix, a.String())
	bits := 48
	if a.Is4() {
		bits = 24
	}
	if p, err := a.Prefix(bits); err == nil {
		t.add(prefix, p.String())
	}
	return true
}

// host adds a host name whole, each parent domain of two or more labels, and its labels as
// words.
func (t *tokens) host(prefix, h string) {
	h = strings.TrimSuffix(h, ".")
	t.add(prefix, h)
	for i := 0; i < len(h); i++ {
		if h[i] == '.' {
			parent := h[i+1:]
			if strings.Contains(parent, ".") {
				t.add(prefix, parent)
			}
		}
	}
	t.words(prefix, h)
}

// isHostname reports whether s looks like a DNS name with at least two labels and an
// alphabetic top-level label: letters, digits and hyphens, labels 1 to 63 bytes.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) < 4 || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return true
}
