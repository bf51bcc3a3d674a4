package parse

import "strings"

// defang undoes the usual ways of writing addresses and URLs so that nothing follows them:
// "203.0.113[.]5", "(.)", "{.}", "[dot]", "(dot)", "203 dot 0 dot 113 dot 5" (between digits
// only), "[:]", "[://]" and "hxxp://".
func defang(s string) string {
	if !mayBeDefanged(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if k := dotToken(s, i); k > 0 {
			b.WriteByte('.')
			i += k
			continue
		}
		if k := spacedDot(s, i); k > 0 {
			b.WriteByte('.')
			i += k
			continue
		}
		if hasFoldPrefix(s[i:], "[://]") {
			b.WriteString("://")
			i += 5
			continue
		}
		if hasFoldPrefix(s[i:], "[:]") {
			b.WriteByte(':')
			i += 3
			continue
		}
		if (s[i] == 'h' || s[i] == 'H') && hasFoldPrefix(s[i:], "hxxp") {
			b.WriteString("http")
			i += 4
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func mayBeDefanged(s string) bool {
	return strings.ContainsAny(s, "[({<") || containsFold(s, " dot ") || containsFold(s, "hxxp")
}

// dotToken returns the length of a bracketed dot at s[i:], or 0.
func dotToken(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	var closer byte
	switch s[i] {
	case '[':
		closer = ']'
	case '(':
		closer = ')'
	case '{':
		closer = '}'
	case '<':
		closer = '>'
	default:
		return 0
	}
	rest := s[i+1:]
	switch {
	case len(rest) >= 2 && rest[0] == '.' && rest[1] == closer && closer != '>':
		return 3
	case len(rest) >= 4 && hasFoldPrefix(rest, "dot") && rest[3] == closer:
		return 5
	}
	return 0
}

// spacedDot returns the length of " dot " or " [.] " (any bracketed dot) at s[i:] when it
// stands between two digits, or 0.
func spacedDot(s string, i int) int {
	if s[i] != ' ' || i == 0 || !isDigit(s[i-1]) {
		return 0
	}
	j := i + 1
	k := dotToken(s, j)
	if k == 0 && hasFoldPrefix(s[j:], "dot") {
		k = 3
	}
	if k == 0 || j+k+1 >= len(s) || s[j+k] != ' ' || !isDigit(s[j+k+1]) {
		return 0
	}
	return j + k + 1 - i
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func containsFold(s, sub string) bool {
	first := sub[0] | 0x20
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z'
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f'
}
