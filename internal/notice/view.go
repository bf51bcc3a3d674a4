package notice

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"sortie.dev/sortie/internal/policy"
)

// noticeView is what notice.tmpl renders.
type noticeView struct {
	Lang, Title  string
	Operator     Operator
	ContactHref  string
	HowTo        []string
	RingTTL      string // "15 minutes"; empty when nothing is kept
	Policy       *summaryView
	BlockListURL string
}

// summaryView is the exit policy summary in sentences.
type summaryView struct {
	Base         string
	Lines        []portLine
	NoIPv6       bool
	AddressRules int
}

type portLine struct{ Family, Ports string }

// blockListView is what blocklist.tmpl renders.
type blockListView struct {
	Lang, Title string
	Operator    Operator
	Now         timeView
	Entries     []entryView
	Active      int
}

type entryView struct {
	policy.Block
	Active          bool
	Decided         timeView
	Expires, Review *timeView
	Covers          string
}

// timeView is a moment shown as a date, with its full RFC 3339 form for <time datetime>.
type timeView struct{ Date, RFC3339 string }

func newTimeView(t time.Time) timeView {
	t = t.UTC()
	return timeView{Date: t.Format(time.DateOnly), RFC3339: t.Format(time.RFC3339)}
}

func optTimeView(t *time.Time) *timeView {
	if t == nil {
		return nil
	}
	v := newTimeView(*t)
	return &v
}

func (p *Pages) noticeView() noticeView {
	v := noticeView{
		Lang: p.op.Language, Title: "Privacy exit run by " + p.op.Name, Operator: p.op,
		ContactHref: p.contact, HowTo: p.howTo, BlockListURL: p.blockList,
	}
	if p.ringTTL > 0 {
		v.RingTTL = humanDuration(p.ringTTL)
	}
	if p.summary != nil {
		v.Policy = newSummaryView(*p.summary)
	}
	return v
}

func newSummaryView(s Summary) *summaryView {
	v := &summaryView{Base: baseText(s), NoIPv6: !s.IPv6Exit, AddressRules: s.AddressRules}
	switch {
	case !s.IPv6Exit:
		v.Lines = []portLine{{Family: "IPv4", Ports: s.IPv4.String()}}
	case slices.Equal(s.IPv4.Open, s.IPv6.Open):
		v.Lines = []portLine{{Family: "IPv4 and IPv6", Ports: s.IPv4.String()}}
	default:
		v.Lines = []portLine{{Family: "IPv4", Ports: s.IPv4.String()}, {Family: "IPv6", Ports: s.IPv6.String()}}
	}
	return v
}

func baseText(s Summary) string {
	var text string
	switch s.Base {
	case policy.BaseDefault:
		text = "Tor's default exit policy"
	case policy.BaseReduced:
		text = "Tor's reduced exit policy"
	case policy.BaseRejectAll:
		return "the operator's own rules; every port they do not open is closed"
	default:
		return "the operator's own rules"
	}
	switch s.OperatorRules {
	case 0:
		return text
	case 1:
		return text + ", after one rule of the operator's own"
	}
	return fmt.Sprintf("%s, after %d rules of the operator's own", text, s.OperatorRules)
}

func (p *Pages) blockListView(now time.Time) blockListView {
	v := blockListView{
		Lang: p.op.Language, Title: "Block list of " + p.op.Name, Operator: p.op,
		Now: newTimeView(now),
	}
	for _, b := range p.blocks {
		e := entryView{
			Block: b, Active: b.Active(now), Decided: newTimeView(b.Decided),
			Expires: optTimeView(b.Expires), Review: optTimeView(b.Review), Covers: covers(b),
		}
		v.Active += b2i(e.Active)
		v.Entries = append(v.Entries, e)
	}
	return v
}

// covers says in words what an entry blocks.
func covers(b policy.Block) string {
	var what string
	switch {
	case b.Domain != "" && b.IncludeSubdomains:
		what = b.Domain + " and its subdomains"
	case b.Domain != "":
		what = b.Domain
	default:
		what = b.Prefix.Masked().String()
	}
	if b.Port == 0 {
		return what + ", all ports"
	}
	return fmt.Sprintf("%s, port %d", what, b.Port)
}

// humanDuration writes d in words: "15 minutes", "1 hour 30 minutes", "45 seconds".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "less than a second"
	}
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{unit: 24 * time.Hour, name: "day"}, {unit: time.Hour, name: "hour"}, {unit: time.Minute, name: "minute"}, {unit: time.Second, name: "second"}} {
		n := d / u.unit
		d -= n * u.unit
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	return strings.Join(parts, " ")
}
