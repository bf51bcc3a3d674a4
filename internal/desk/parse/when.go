package parse

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Timestamp spellings, each followed by an optional zone. Groups are read by the parse
// function beside each pattern.
const (
	months   = `(?i:(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?)`
	weekday  = `(?i:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?[ \t]+)?`
	clock    = `(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?`
	zoneExpr = `(?:[ \t]*(Z\b|[+-]\d{2}:?\d{2}\b|\(?(?:UTC|GMT|UT)(?:[ \t]*[+-]\d{1,2}(?::?\d{2})?)?\)?|\(?[A-Z]{2,5}\)?(?:[^A-Za-z]|$)))?(?:[ \t]*\([A-Z]{2,5}\))?`
)

var timeForms = []struct {
	re *regexp.Regexp
	// order gives the submatch numbers of year, month, day, hour, minute, second,
	// fraction, zone and am/pm (0: absent).
	order [9]int
	// named is true when the month is a name.
	named bool
}{
	{ // 2026-03-01T12:34:56Z, 2026-03-01 12:34:56 +0100, 2026/03/01 12:34 UTC
		re:    regexp.MustCompile(`\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[Tt]|[ \t]*,?[ \t]+(?:at[ \t]+)?)` + clock + zoneExpr),
		order: [9]int{1, 2, 3, 4, 5, 6, 7, 8, 0},
	},
	{ // Sun, 01 Mar 2026 12:34:56 +0100; 1 March 2026 at 12:34 CET
		re:    regexp.MustCompile(`\b` + weekday + `(\d{1,2})\.?[ \t]+` + months + `,?[ \t]+(\d{4}),?[ \t]+(?:at[ \t]+)?` + clock + zoneExpr),
		order: [9]int{3, 2, 1, 4, 5, 6, 7, 8, 0},
		named: true,
	},
	{ // March 1, 2026 12:34:56 PM EST; Feb  3 2014 02:13:35 +0100
		re:    regexp.MustCompile(`\b` + weekday + months + `[ \t]+(\d{1,2})(?:st|nd|rd|th)?,?[ \t]+(\d{4}),?[ \t]+(?:at[ \t]+)?` + clock + `(?:[ \t]*([AaPp])\.?[Mm]\.?)?` + zoneExpr),
		order: [9]int{3, 1, 2, 4, 5, 6, 7, 9, 8},
		named: true,
	},
	{ // 01.03.2026 14:22:10 MEZ, 1.3.2026 um 14:22 Uhr (day first, as written in Europe)
		re:    regexp.MustCompile(`\b(\d{1,2})\.(\d{1,2})\.(\d{4}),?[ \t]+(?:(?:um|at)[ \t]+)?` + clock + `(?:[ \t]*Uhr)?` + zoneExpr),
		order: [9]int{3, 2, 1, 4, 5, 6, 7, 8, 0},
	},
	{ // Sun Mar  1 12:34:56 UTC 2026 (date(1), ctime)
		re:    regexp.MustCompile(`\b(?i:(?:mon|tue|wed|thu|fri|sat|sun))[ \t]+` + months + `[ \t]+(\d{1,2})[ \t]+(\d{1,2}):(\d{2}):(\d{2})[ \t]+(?:([A-Z]{2,5})[ \t]+)?(\d{4})\b`),
		order: [9]int{7, 1, 2, 3, 4, 5, 0, 6, 0},
		named: true,
	},
}

// FindTime returns the first timestamp written in text, in the zone it names. zoneGiven is
// false, and the time is read as UTC, when the text names no zone. ok is false when text
// holds no timestamp with a date, an hour and a minute (years 1970-2199).
//
// Recognised: ISO 8601 and its relatives ("2026-03-01T12:34:56.5Z", "2026-03-01 12:34:56
// +0100", "2026/03/01 12:34 UTC"), RFC 2822 ("Sun, 01 Mar 2026 12:34:56 +0100 (CET)"),
// "March 1, 2026 at 12:34 PM EST", "Feb  3 2014 02:13:35 +0100", day-first dotted dates
// ("01.03.2026 14:22:10 MEZ") and date(1) output. Zones:
// "Z", numeric offsets, UTC/GMT with an offset, and common names (CET, CEST, EST, PST...).
func FindTime(text string) (t time.Time, zoneGiven bool, ok bool) {
	text = truncate(text, maxScan)
	clocks := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], ':')
		if j < 0 {
			break
		}
		c := i + j
		i = c + 1
		if !clockAt(text, c) {
			continue
		}
		if clocks++; clocks > maxClocks {
			break
		}
		if t, zoneGiven, ok = timeAround(text, c); ok {
			return t, zoneGiven, true
		}
	}
	return time.Time{}, false, false
}

// maxClocks bounds how many "12:34" spellings FindTime looks at in one text.
const maxClocks = 256

// clockAt reports whether s[c] is the first colon of a clock ("9:05", "12:34:56").
func clockAt(s string, c int) bool {
	if c == 0 || c+2 >= len(s) || !isDigit(s[c-1]) || !isDigit(s[c+1]) || !isDigit(s[c+2]) {
		return false
	}
	return c < 3 || s[c-3] != ':'
}

// timeAround tries every form on a window around the clock whose colon is at s[c]; only a
// match whose clock is that one counts, so that matches come in text order.
func timeAround(s string, c int) (time.Time, bool, bool) {
	lo, hi := max(0, c-72), min(len(s), c+48)
	for lo > 0 && lo > c-96 && s[lo-1] != ' ' && s[lo-1] != '\n' && s[lo-1] != '\t' {
		lo--
	}
	win := s[lo:hi]
	best := -1
	var t time.Time
	var given bool
	for _, f := range timeForms {
		for _, m := range f.re.FindAllStringSubmatchIndex(win, 4) {
			if lo+m[0]+strings.IndexByte(win[m[0]:m[1]], ':') != c || best >= 0 && m[0] >= best {
				continue
			}
			if tt, g, ok := readTime(win, m, f.order, f.named); ok {
				best, t, given = m[0], tt, g
			}
		}
	}
	return t, given, best >= 0
}

// readTime builds the time from one match.
func readTime(s string, m []int, order [9]int, named bool) (time.Time, bool, bool) {
	group := func(k int) string {
		n := order[k]
		if n == 0 || m[2*n] < 0 {
			return ""
		}
		return s[m[2*n]:m[2*n+1]]
	}
	num := func(k int) int {
		n, _ := strconv.Atoi(group(k))
		return n
	}
	year, day, hour, minute, sec := num(0), num(2), num(3), num(4), num(5)
	month := num(1)
	if named {
		month = monthNumber(group(1))
	}
	if ap := strings.ToLower(group(8)); ap != "" {
		if hour < 1 || hour > 12 {
			return time.Time{}, false, false
		}
		hour %= 12
		if ap == "p" {
			hour += 12
		}
	}
	if year < 1970 || year > 2199 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false, false
	}
	if day > daysIn(year, month) {
		return time.Time{}, false, false
	}
	nsec := 0
	if frac := group(6); frac != "" {
		nsec, _ = strconv.Atoi((frac + "000000000")[:9])
	}
	loc, given := zoneOf(group(7))
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), given, true
}

func monthNumber(name string) int {
	n := strings.ToLower(name)
	for i, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.HasPrefix(n, m) {
			return i + 1
		}
	}
	return 0
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// zoneOffsets are the zone names complaints use, with their offsets in hours.
var zoneOffsets = map[string]float64{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "MET": 1,
	"CEST": 2, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "JST": 9, "KST": 9,
	"AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "EST": -5, "EDT": -4, "CST": -6,
	"CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
	"HST": -10, "MEZ": 1, "MESZ": 2,
}

// zoneOf reads a zone as matched by zoneExpr. It returns time.UTC and false when z names no
// zone it knows.
func zoneOf(z string) (*time.Location, bool) {
	z = strings.Trim(strings.TrimSpace(z), "()")
	z = strings.TrimRightFunc(z, func(r rune) bool { return !('A' <= r && r <= 'Z' || '0' <= r && r <= '9') })
	if z == "" {
		return time.UTC, false
	}
	name := strings.TrimRight(z, "+-0123456789: \t")
	rest := strings.TrimSpace(z[len(name):])
	base, known := zoneOffsets[name]
	if name != "" && !known {
		return time.UTC, false
	}
	off := int(base * 3600)
	if rest != "" {
		o, ok := numericOffset(rest)
		if !ok {
			return time.UTC, false
		}
		off += o
	}
	if off == 0 && (name == "" || name == "Z" || name == "UTC" || name == "UT" || name == "GMT") {
		return time.UTC, true
	}
	if rest != "" {
		name = ""
	}
	return time.FixedZone(name, off), true
}

// numericOffset reads "+0100", "+01:00", "-05", "+5" as seconds east of UTC (at most 14 h).
func numericOffset(s string) (int, bool) {
	if len(s) < 2 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	var h, m int
	var err error
	switch len(digits) {
	case 1, 2:
		h, err = strconv.Atoi(digits)
	case 3, 4:
		h, err = strconv.Atoi(digits[:len(digits)-2])
		if err == nil {
			m, err = strconv.Atoi(digits[len(digits)-2:])
		}
	default:
		return 0, false
	}
	if err != nil || h > 14 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}
