package triage_test

// The generator of the held-out evaluation: templates expand, with seeded randomness, into
// raw mails with their truth. Two disjoint template sets exist: dev (eval_dev_test.go), on
// which the rules and keyword table were developed and the filter is trained, and held-out
// (eval_heldout_test.go), written separately with other wording, senders and layouts. All
// text is written for these tests; all addresses and names are documentation ones.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/desk/triage"
)

// truth is what a generated mail really is.
type truth struct {
	spam      bool // junk sent to abuse@; everything else is a real complaint or reply
	automated bool // sent by a machine, with a sign triage should see
	// oursAtTime: names one of our addresses at a time (or with no time) it was ours.
	oursAtTime bool
	// oursOutside: names an address that was ours, but only outside the reported time.
	oursOutside bool
	reply       int64 // our case it replies to
	category    parse.Category
}

type sample struct {
	template string
	raw      []byte
	truth    truth
}

type template struct {
	name   string
	weight int
	make   func(g *gen) sample
}

// evalInventory is our address history in the evaluation.
var evalInventory = triage.Inventory{
	{Prefix: netip.MustParsePrefix("192.0.2.0/28"), Since: date(2024, 1, 1), Name: "exit-a"},
	{Prefix: netip.MustParsePrefix("198.51.100.7/32"), Since: date(2023, 1, 1), Until: date(2025, 6, 1), Name: "old-exit"},
	{Prefix: netip.MustParsePrefix("2001:db8:5::/48"), Since: date(2025, 1, 1), Name: "exit-v6"},
	{Prefix: netip.MustParsePrefix("203.0.113.128/27"), Since: date(2025, 9, 1), Name: "exit-b"},
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

type gen struct {
	r *rand.Rand
	n int // serial, for unique IDs
	// filler, when set, wraps plain-text bodies in everyday sentences (see filler).
	filler bool
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }
func (g *gen) intn(lo, hi int) int     { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }
func (g *gen) serial() int             { g.n++; return g.n }

// when returns a time in early 2026, when every current exit was ours.
func (g *gen) when() time.Time {
	return date(2026, 1, 5).Add(time.Duration(g.r.Int64N(int64(100 * 24 * time.Hour)))).Truncate(time.Second)
}

// ours returns one of our addresses current in 2026.
func (g *gen) ours() netip.Addr {
	switch g.r.IntN(4) {
	case 0, 1:
		return netip.AddrFrom4([4]byte{192, 0, 2, byte(g.intn(1, 14))})
	case 2:
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:5::%x", g.intn(1, 0xfff)))
	default:
		return netip.AddrFrom4([4]byte{203, 0, 113, byte(g.intn(129, 158))})
	}
}

// ours4 returns one of our current IPv4 addresses.
func (g *gen) ours4() netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(g.intn(1, 14))}) }

// foreign returns an address that was never ours.
func (g *gen) foreign() netip.Addr {
	switch g.r.IntN(4) {
	case 0:
		return netip.AddrFrom4([4]byte{203, 0, 113, byte(g.intn(1, 120))})
	case 1:
		return netip.AddrFrom4([4]byte{198, 51, 100, byte(g.intn(20, 250))})
	case 2:
		return netip.AddrFrom4([4]byte{192, 0, 2, byte(g.intn(100, 250))})
	default:
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:ffff::%x", g.intn(1, 0xffff)))
	}
}

// outside returns an address that was ours at some time, and a time at which it was not:
// old-exit in 2026 (after it was given back), or exit-b in spring 2025 (before it was ours).
func (g *gen) outside() (netip.Addr, time.Time) {
	if g.chance(0.5) {
		return netip.MustParseAddr("198.51.100.7"), g.when()
	}
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(g.intn(129, 158))}),
		date(2025, 3, 1).Add(time.Duration(g.r.Int64N(int64(90 * 24 * time.Hour)))).Truncate(time.Second)
}

func (g *gen) port() int { return g.intn(1024, 65000) }

func (g *gen) name() string {
	return g.pick("Alex", "Sam", "Robin", "Kim", "Jo", "Maria", "Chris", "Noor", "Lee", "Dana", "Pat", "Toni")
}

func (g *gen) surname() string {
	return g.pick("Miller", "Okafor", "Schmidt", "Rossi", "Nakamura", "Dubois", "Silva", "Novak", "Berg", "Larsen")
}

func (g *gen) id(prefix string) string { return fmt.Sprintf("%s%d", prefix, 100000+g.r.IntN(900000)) }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-a" + g.hex(3) + "-" + g.hex(12)
}

// mail is a mail under construction.
type mail struct {
	g      *gen
	header [][2]string
	ctype  string
	body   string
}

func newMail(g *gen, from, subject string, at time.Time) *mail {
	domain := from[strings.LastIndex(from, "@")+1:]
	sent := at.Add(time.Duration(g.intn(5, 600)) * time.Minute)
	return &mail{g: g, header: [][2]string{
		{"From", from},
		{"To", "abuse@exit.example.org"},
		{"Subject", subject},
		{"Date", sent.Format(time.RFC1123Z)},
		{"Message-ID", fmt.Sprintf("<%s.%d@%s>", g.hex(12), g.serial(), domain)},
		{"MIME-Version", "1.0"},
	}, ctype: "text/plain; charset=utf-8"}
}

func (m *mail) set(k, v string) *mail {
	m.header = append(m.header, [2]string{k, v})
	return m
}

func (m *mail) text(body string) *mail {
	m.body = body
	if m.g.filler {
		m.body = m.g.fillerLines(1) + "\n" + body + "\n" + m.g.fillerLines(m.g.intn(1, 2))
	}
	return m
}

// part is one part of a multipart body.
type part struct {
	ctype, name, body string
}

func (m *mail) multipart(g *gen, sub string, parts ...part) *mail {
	boundary := "b-" + g.hex(16)
	m.ctype = fmt.Sprintf("multipart/%s; boundary=%q", sub, boundary)
	var b strings.Builder
	b.WriteString("This is a multi-part message in MIME format.\n")
	for _, p := range parts {
		fmt.Fprintf(&b, "\n--%s\nContent-Type: %s\n", boundary, p.ctype)
		if p.name != "" {
			fmt.Fprintf(&b, "Content-Disposition: attachment; filename=%q\n", p.name)
		}
		b.WriteString("\n" + p.body + "\n")
	}
	fmt.Fprintf(&b, "--%s--\n", boundary)
	m.body = b.String()
	return m
}

func (m *mail) bytes() []byte {
	var b bytes.Buffer
	for _, h := range m.header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\n\r\n", m.ctype)
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.body, "\r\n", "\n"), "\n", "\r\n"))
	return b.Bytes()
}

// expand makes n samples from templates, chosen by weight.
func expand(g *gen, ts []template, n int) []sample {
	total := 0
	for _, t := range ts {
		total += t.weight
	}
	out := make([]sample, 0, n)
	for range n {
		k := g.r.IntN(total)
		for _, t := range ts {
			if k < t.weight {
				s := t.make(g)
				s.template = t.name
				out = append(out, s)
				break
			}
			k -= t.weight
		}
	}
	return out
}

// Time spellings prose uses.
func (g *gen) proseTime(t time.Time) string {
	switch g.r.IntN(4) {
	case 0:
		return t.Format("2006-01-02 15:04:05") + " UTC"
	case 1:
		return t.Format(time.RFC3339)
	case 2:
		return t.In(time.FixedZone("CET", 3600)).Format("02 Jan 2006 15:04:05 -0700")
	default:
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	}
}

// logLines writes n log lines of a service at times around at.
func (g *gen) logLines(n int, at time.Time, line func(time.Time) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintln(&b, line(at.Add(time.Duration(i*g.intn(1, 40))*time.Second)))
	}
	return b.String()
}
