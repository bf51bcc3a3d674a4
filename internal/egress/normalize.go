package egress

import (
	"errors"
	"net/netip"
	"strings"

	"sortie.dev/sortie/internal/refusal"
)

// Name limits of RFC 1035 §2.3.4, without the trailing dot.
const (
	maxNameLen  = 253
	maxLabelLen = 63
)

// Causes kept in refusal.Err by DefaultNormalize; they never name the host.
var (
	errEmpty     = errors.New("empty host")
	errZone      = errors.New("address with a zone id")
	errBrackets  = errors.New("unbalanced or misplaced brackets")
	errTooLong   = errors.New("name or label too long")
	errLabel     = errors.New("empty label")
	errCharacter = errors.New("character outside letters, digits, hyphen, underscore and dot")
	errNumeric   = errors.New("numeric host that is not an IP address")
	errLocalhost = errors.New("localhost name")
)

// DefaultNormalize turns a client's host into a lower-case name (no trailing dot) or an
// address (IPv4-mapped IPv6 unmapped). It refuses as Malformed empty and oversized names,
// zone ids, characters outside letters, digits, hyphen, underscore and dot, and names whose
// last label is numeric (browsers would read them as IPv4: "127.1", "0x7f000001"); it refuses
// localhost and *.localhost as Policy, before any lookup.
func DefaultNormalize(host string) (string, netip.Addr, error) {
	inner, bracketed, err := unbracket(host)
	if err != nil {
		return "", netip.Addr{}, malformed(err)
	}
	if strings.IndexByte(inner, '%') >= 0 {
		return "", netip.Addr{}, malformed(errZone)
	}
	if addr, err := netip.ParseAddr(inner); err == nil {
		if bracketed && !addr.Is6() {
			return "", netip.Addr{}, malformed(errBrackets)
		}
		return "", addr.Unmap(), nil
	}
	if bracketed {
		return "", netip.Addr{}, malformed(errBrackets)
	}
	name, err := normalName(inner)
	if err != nil {
		return "", netip.Addr{}, err
	}
	return name, netip.Addr{}, nil
}

func unbracket(host string) (string, bool, error) {
	if host == "" {
		return "", false, errEmpty
	}
	open, closed := strings.HasPrefix(host, "["), strings.HasSuffix(host, "]")
	if open != closed {
		return "", false, errBrackets
	}
	if open {
		host = host[1 : len(host)-1]
	}
	if strings.ContainsAny(host, "[]") {
		return "", false, errBrackets
	}
	return host, open, nil
}

// normalName checks and lower-cases a host name.
func normalName(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", malformed(errEmpty)
	}
	if len(s) > maxNameLen {
		return "", malformed(errTooLong)
	}
	s = strings.ToLower(s)
	if err := checkLabels(s); err != nil {
		return "", malformed(err)
	}
	if s == "localhost" || strings.HasSuffix(s, ".localhost") {
		return "", refusal.Wrap(refusal.Policy, msgPolicy, errLocalhost)
	}
	return s, nil
}

// checkLabels checks a lower-case name label by label.
func checkLabels(s string) error {
	last := ""
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return errLabel
		case len(label) > maxLabelLen:
			return errTooLong
		}
		for i := 0; i < len(label); i++ {
			if !ldh(label[i]) {
				return errCharacter
			}
		}
		last = label
	}
	if numeric(last) {
		return errNumeric
	}
	return nil
}

func ldh(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// numeric reports whether a label is a number as the WHATWG IPv4 parser reads one: decimal,
// octal with a leading 0, or hexadecimal with 0x (possibly empty after the prefix).
func numeric(label string) bool {
	if rest, ok := strings.CutPrefix(label, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}

func malformed(err error) *refusal.Error {
	return refusal.Wrap(refusal.Malformed, msgMalformed, err)
}
