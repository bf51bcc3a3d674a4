package triage

import "strings"

// globMatch reports whether s matches pattern, case-insensitively: '*' matches any run of
// characters (also none), '?' any one character, everything else itself. It runs in
// O(len(s)·len(pattern)) at worst.
func globMatch(pattern, s string) bool {
	p, str := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?") }
