package parse

import (
	"regexp"
	"strconv"
)

var (
	// srcPortRe matches a source port named on its own: "source port 51234", "SPT=51234".
	srcPortRe = regexp.MustCompile(`(?i)\b(?:(?:source|src)[ \t]+port[ \t]*[:#=]?[ \t]*|spt=)(\d{1,5})\b`)
	// dstPortRe matches a port named on its own: "port 22", "on port: 443", "DPT=22",
	// "22/tcp".
	dstPortRe = regexp.MustCompile(`(?i)\b(?:ports?[ \t]*(?:number[ \t]*)?[:#=]?[ \t]*|dpt=)(\d{1,5})\b|\b(\d{1,5})/(?:tcp|udp)\b`)
)

// loosePorts returns the first source port and the first other port named in s outside the
// spans in skip (ports already attached to an address); 0 for none.
func loosePorts(s string, skip [][2]int) (src, dst int) {
	if !containsFold(s, "port") && !containsFold(s, "pt=") && !containsFold(s, "/tcp") && !containsFold(s, "/udp") {
		return 0, 0
	}
	inSkip := func(pos int) bool {
		for _, sp := range skip {
			if pos >= sp[0] && pos < sp[1] {
				return true
			}
		}
		return false
	}
	var srcSpans [][2]int
	for _, m := range srcPortRe.FindAllStringSubmatchIndex(s, 64) {
		srcSpans = append(srcSpans, [2]int{m[0], m[1]})
		if p := atoiPort(s[m[2]:m[3]]); src == 0 && p > 0 && !inSkip(m[0]) {
			src = p
		}
	}
	skip = append(skip, srcSpans...)
	for _, m := range dstPortRe.FindAllStringSubmatchIndex(s, 64) {
		g := 2
		if m[2] < 0 {
			g = 4
		}
		if p := atoiPort(s[m[g]:m[g+1]]); p > 0 && !inSkip(m[g]) {
			return src, p
		}
	}
	return src, 0
}

func atoiPort(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}
