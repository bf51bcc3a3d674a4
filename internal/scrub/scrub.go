// Package scrub removes network addresses from text before it is logged: IPv4 and IPv6
// addresses, host:port pairs, URLs and the names in DNS lookup errors all become "[addr]". It
// exists for messages Sortie does not format itself (the standard library's error logs, wrapped
// errors), so that no client or destination address reaches a log line.
package scrub

import (
	"log"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
)

// Placeholder replaces every address Scrub finds.
const Placeholder = "[addr]"

var (
	// bracketed matches "[v6]" and "[v6]:port", as net.JoinHostPort writes them.
	bracketed = regexp.MustCompile(`\[[^\]\s]{1,64}\](?::\d{1,5})?`)
	// url matches a URL with a scheme, up to a space or a quote.
	url = regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
	// ipv6 matches candidate bare IPv6 addresses, which must parse to count.
	ipv6 = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:[.0-9]*)(?:%[0-9A-Za-z_.-]+)?`)
	// ipv4 matches dotted-quad IPv4 addresses with an optional port.
	ipv4 = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b`)
	// hostPort matches name:port; a name must contain a letter (so "12:30" is left alone).
	hostPort = regexp.MustCompile(`\b[A-Za-z0-9_](?:[A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_-]+)*\.?:\d{1,5}\b`)
	// lookup matches the name in the resolver's "lookup NAME on ...", "lookup NAME: ...".
	lookup = regexp.MustCompile(`\blookup ([^\s:\[]+)`)
)

// Scrub returns s with every IPv4 and IPv6 address, host:port pair, URL and looked-up DNS name
// replaced by Placeholder. It errs on the side of removing too much.
func Scrub(s string) string {
	s = bracketed.ReplaceAllStringFunc(s, scrubBracketed)
	s = url.ReplaceAllString(s, Placeholder)
	s = ipv6.ReplaceAllStringFunc(s, scrubIPv6)
	s = ipv4.ReplaceAllString(s, Placeholder)
	s = hostPort.ReplaceAllStringFunc(s, scrubHostPort)
	return lookup.ReplaceAllString(s, "lookup "+Placeholder)
}

// scrubBracketed replaces "[addr]:port" when the part in brackets is an IP address.
func scrubBracketed(m string) string {
	inner := m[1:strings.IndexByte(m, ']')]
	if _, err := netip.ParseAddr(inner); err != nil {
		return m
	}
	return Placeholder
}

// scrubIPv6 replaces the longest prefix of m that parses as an IPv6 address, after dropping
// trailing ':' and '.' that belong to the sentence rather than the address.
func scrubIPv6(m string) string {
	a := strings.TrimRight(m, ":.")
	if ip, err := netip.ParseAddr(a); err == nil && ip.Is6() {
		return Placeholder + m[len(a):]
	}
	return m
}

// scrubHostPort replaces name:port when the name has a letter in it.
func scrubHostPort(m string) string {
	host := m[:strings.LastIndexByte(m, ':')]
	if strings.IndexFunc(host, isLetter) < 0 {
		return m
	}
	return Placeholder
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// ErrorLog returns a *log.Logger, fit for http.Server.ErrorLog, that scrubs each line and
// passes it to l at level WARN. A nil l discards everything.
func ErrorLog(l *slog.Logger) *log.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return log.New(writer{l}, "", 0)
}

// writer turns log.Logger output into slog records.
type writer struct{ l *slog.Logger }

// Write logs one scrubbed line.
func (w writer) Write(p []byte) (int, error) {
	w.l.Warn(Scrub(strings.TrimRight(string(p), "\n")))
	return len(p), nil
}
