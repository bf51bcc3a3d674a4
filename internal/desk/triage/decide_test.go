package triage

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strings"
	"testing"
	"time"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
)

// cases is a Lookup over fixed tables, standing in for the store's case index.
type cases struct {
	tags   map[int64]int64
	msgIDs map[string]int64
	extIDs map[string]int64 // "complainant|id"
	err    error
}

func (c cases) CaseByTag(_ context.Context, id int64) (int64, bool, error) {
	v, ok := c.tags[id]
	return v, ok, c.err
}

func (c cases) CaseByMessageID(_ context.Context, id string) (int64, bool, error) {
	v, ok := c.msgIDs[id]
	return v, ok, c.err
}

func (c cases) CaseByExternalID(_ context.Context, who, id string) (int64, bool, error) {
	v, ok := c.extIDs[who+"|"+id]
	return v, ok, c.err
}

var testCases = cases{
	tags:   map[int64]int64{12: 12},
	msgIDs: map[string]int64{"c40.1@desk.example.org": 40},
	extIDs: map[string]int64{"hoster.example.net|HT-777": 51},
}

// trained returns a filter that has learned enough of each class to be trusted.
func trained(t *testing.T, n int) *bayes.Memory {
	t.Helper()
	m := bayes.NewMemory()
	ctx := context.Background()
	spam := []string{"casino", "bonus", "winner", "crypto", "profit", "click", "unsubscribe", "offer", "seo", "backlinks"}
	ham := []string{"abuse", "report", "ssh", "login", "attempts", "logs", "port", "attack", "server", "complaint"}
	for i := range n {
		pick := func(ws []string) string {
			var b strings.Builder
			for j := range 6 {
				b.WriteString(ws[(i*7+j*3)%len(ws)] + " ")
			}
			return b.String()
		}
		if _, err := m.Learn(ctx, fmt.Sprint("s", i), bayes.ClassSpam, bayes.TokenizeText(pick(spam))); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Learn(ctx, fmt.Sprint("h", i), bayes.ClassHam, bayes.TokenizeText(pick(ham))); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

const spammyText = "casino bonus winner crypto profit click offer seo backlinks unsubscribe"
const hammyText = "abuse report: ssh login attempts from the logs, port attack on our server"

func prose(addr string, at time.Time) []parse.Report {
	r := parse.Report{Format: parse.FormatProse, OccurredAt: at, ZoneGiven: !at.IsZero()}
	if addr != "" {
		a := netip.MustParseAddr(addr)
		r.Source, r.Addresses = a, []netip.Addr{a}
	}
	return []parse.Report{r}
}

func TestDecide(t *testing.T) {
	inv := testInventory(t)
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rules := []Rule{
		{Name: "hoster", From: "hoster.example.net", Action: "queue", Category: "upstream"},
		{Name: "blocklist-bot", From: "*@bl.example.org", Action: "ignore"},
		{Name: "friends", From: "*@friends.example.com", Action: "auto-reply", Template: "thanks"},
		{Name: "spoofable", From: "partner.example.com", Action: "queue"},
	}
	trusted, untrusted := trained(t, bayes.MinEach), trained(t, bayes.MinEach-1)
	tests := []struct {
		name      string
		counts    bayes.Counts
		m         parse.Message
		reports   []parse.Report
		outcome   Outcome
		category  parse.Category
		replyTo   int64
		automated bool
		autoReply bool
		atTime    bool
		neverSpam bool
		reason    string // one reason must contain this
	}{
		{name: "reply-by-tag", m: parse.Message{From: "x@example.com", Subject: "Re: [Sortie#12] abuse", Text: spammyText},
			counts: trusted, reports: prose("", time.Time{}), outcome: OutcomeReply, replyTo: 12, category: parse.CategoryOther,
			neverSpam: true, reason: "reply to our case 12 (subject tag [Sortie#12])"},
		{name: "reply-by-in-reply-to", m: parse.Message{From: "x@example.com", InReplyTo: "<c40.1@desk.example.org>"},
			counts: trusted, reports: prose("", time.Time{}), outcome: OutcomeReply, replyTo: 40, category: parse.CategoryOther,
			neverSpam: true, reason: "In-Reply-To <c40.1@desk.example.org>"},
		{name: "reply-by-references", m: parse.Message{From: "x@example.com", References: []string{"<c40.1@desk.example.org>", "<other@example.com>"}},
			counts: trusted, reports: prose("", time.Time{}), outcome: OutcomeReply, replyTo: 40, category: parse.CategoryOther,
			neverSpam: true, reason: "References <c40.1@desk.example.org>"},
		{name: "reply-by-external-id", m: parse.Message{From: "noc@hoster.example.net"},
			reports: []parse.Report{{Format: parse.FormatProse, Complainant: "hoster.example.net", CaseID: "HT-777"}},
			outcome: OutcomeReply, replyTo: 51, category: parse.CategoryUpstream, neverSpam: true, reason: "case ID HT-777 of hoster.example.net"},
		{name: "unknown-tag", m: parse.Message{From: "x@example.com", Subject: "[sortie#99]", Text: hammyText},
			counts: trusted, reports: prose("", time.Time{}), outcome: OutcomeQueue, category: parse.CategoryBruteForce,
			reason: "subject tag [sortie#99] names no case we know"},
		{name: "xarf-automated-ours", counts: trusted,
			m: parse.Message{From: "reports@bl.example.net", Header: mail.Header{"X-Arf": {"YES"}, "Auto-Submitted": {"auto-generated"}}, Text: spammyText},
			reports: []parse.Report{{Format: parse.FormatXARF01, Category: parse.CategoryScanning,
				Source: netip.MustParseAddr("192.0.2.3"), Addresses: []netip.Addr{netip.MustParseAddr("192.0.2.3")}, OccurredAt: when}},
			outcome: OutcomeIgnored, category: parse.CategoryScanning, automated: true, atTime: true, neverSpam: true,
			reason: "Auto-Submitted: auto-generated (RFC 3834)"},
		{name: "automated-upstream-rule", m: parse.Message{From: "noreply@hoster.example.net", Text: "Please act."},
			reports: prose("192.0.2.3", when), outcome: OutcomeQueue, category: parse.CategoryUpstream, automated: true, atTime: true,
			neverSpam: true, reason: `sender rule "hoster" matches: queue`},
		{name: "automated-police-portal", m: parse.Message{From: "no-reply@police.example", ReturnPath: "<>",
			Text: "Law enforcement request: court order regarding 192.0.2.4. This mailbox is not monitored."},
			reports: prose("192.0.2.4", time.Time{}), outcome: OutcomeQueue, category: parse.CategoryLawEnforcement, automated: true, atTime: true,
			neverSpam: true, reason: `says "not monitored"`},
		{name: "automated-no-rule", m: parse.Message{From: "alerts@monitor.example.com", Header: mail.Header{"Precedence": {"bulk"}}, Text: "port scan seen"},
			reports: prose("203.0.113.9", when), outcome: OutcomeIgnored, category: parse.CategoryScanning, automated: true,
			reason: "outcome ignored: automated sender and no rule"},
		{name: "human-ours-filter-says-spam", counts: trusted, m: parse.Message{From: "x@example.com", Text: spammyText},
			reports: prose("192.0.2.5", when), outcome: OutcomeQueue, category: parse.CategoryOther, atTime: true, neverSpam: true,
			reason: "the filter says spam, but this is never spam: names our address at a time it was ours"},
		{name: "human-spam", counts: trusted, m: parse.Message{From: "x@example.com", Text: spammyText},
			reports: prose("", time.Time{}), outcome: OutcomeSpam, category: parse.CategoryOther, reason: "outcome spam"},
		{name: "human-spam-names-random-address", counts: trusted, m: parse.Message{From: "x@example.com", Text: spammyText},
			reports: prose("203.0.113.50", when), outcome: OutcomeSpam, category: parse.CategoryOther, reason: "names no address of ours (1 address named)"},
		{name: "human-spam-names-old-address", counts: trusted, m: parse.Message{From: "x@example.com", Text: spammyText},
			reports: prose("198.51.100.7", when), outcome: OutcomeUnsure, category: parse.CategoryOther,
			reason: "names 198.51.100.7 (old-exit), but it was not ours at 2026-03-01T12:00:00Z"},
		{name: "human-ham", counts: trusted, m: parse.Message{From: "x@example.com", Text: hammyText},
			reports: prose("", time.Time{}), outcome: OutcomeQueue, category: parse.CategoryBruteForce, reason: "outcome queue: the filter says ham"},
		{name: "human-untrusted", counts: untrusted, m: parse.Message{From: "x@example.com", Text: hammyText},
			reports: prose("", time.Time{}), outcome: OutcomeUnsure, category: parse.CategoryBruteForce, reason: "spam filter not trusted yet (learned 199 spam, 199 ham"},
		{name: "human-no-filter", m: parse.Message{From: "x@example.com", Text: hammyText},
			reports: prose("", time.Time{}), outcome: OutcomeUnsure, category: parse.CategoryBruteForce, reason: "no spam filter: rules only"},
		{name: "human-untrusted-ours-no-time", counts: untrusted, m: parse.Message{From: "x@example.com", Text: hammyText},
			reports: prose("198.51.100.7", time.Time{}), outcome: OutcomeQueue, category: parse.CategoryBruteForce, atTime: true, neverSpam: true,
			reason: "names our address 198.51.100.7 (old-exit); the report gives no time"},
		{name: "auto-reply-allowed", m: parse.Message{From: "sam@friends.example.com", Text: hammyText},
			reports: prose("192.0.2.5", when), outcome: OutcomeQueue, category: parse.CategoryBruteForce, atTime: true, autoReply: true, neverSpam: true,
			reason: `automatic reply allowed with template "thanks"`},
		{name: "auto-reply-refused-rfc3834", m: parse.Message{From: "bot@friends.example.com", Header: mail.Header{"Auto-Submitted": {"auto-replied"}}},
			reports: prose("192.0.2.5", when), outcome: OutcomeQueue, category: parse.CategoryOther, automated: true, atTime: true, neverSpam: true,
			reason: "no automatic reply: RFC 3834 forbids"},
		{name: "auto-submitted-no", m: parse.Message{From: "sam@friends.example.com", Header: mail.Header{"Auto-Submitted": {"no"}}},
			reports: prose("192.0.2.5", when), outcome: OutcomeQueue, category: parse.CategoryOther, atTime: true, autoReply: true, neverSpam: true,
			reason: "no sign of an automated sender"},
		{name: "rule-ignore", m: parse.Message{From: "feed@bl.example.org", Text: hammyText},
			reports: prose("192.0.2.5", when), outcome: OutcomeIgnored, category: parse.CategoryBruteForce, atTime: true, neverSpam: true,
			reason: `outcome ignored: rule "blocklist-bot" says ignore`},
		{name: "rule-queue-but-spam", counts: trusted, m: parse.Message{From: "x@partner.example.com", Text: spammyText},
			reports: prose("", time.Time{}), outcome: OutcomeSpam, category: parse.CategoryOther, reason: "outcome spam: the filter says spam"},
		{name: "mapped-address", m: parse.Message{From: "x@example.com", Text: hammyText},
			reports: prose("::ffff:192.0.2.5", when), outcome: OutcomeQueue, category: parse.CategoryBruteForce, atTime: true, neverSpam: true,
			reason: "names our address 192.0.2.5 (exit-a), ours at 2026-03-01T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(Options{Inventory: inv, Rules: rules, Counts: tt.counts, Lookup: testCases})
			if err != nil {
				t.Fatal(err)
			}
			d, err := tr.Decide(context.Background(), &tt.m, tt.reports)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("outcome=%s category=%s reply=%d automated=%v autoreply=%v attime=%v neverspam=%v",
				d.Outcome, d.Category, d.ReplyTo, d.Automated, d.AutoReplyAllowed, d.OursAtTime, d.NeverSpam != "")
			want := fmt.Sprintf("outcome=%s category=%s reply=%d automated=%v autoreply=%v attime=%v neverspam=%v",
				tt.outcome, tt.category, tt.replyTo, tt.automated, tt.autoReply, tt.atTime, tt.neverSpam)
			if got != want {
				t.Errorf("got  %s\nwant %s\nreasons:\n  %s", got, want, strings.Join(d.Reasons, "\n  "))
			}
			if !anyContains(d.Reasons, tt.reason) {
				t.Errorf("no reason says %q:\n  %s", tt.reason, strings.Join(d.Reasons, "\n  "))
			}
			if d.Outcome == OutcomeSpam && d.NeverSpam != "" {
				t.Errorf("classed spam although %s", d.NeverSpam)
			}
			if d.AutoReplyAllowed && (d.AutoSubmitted || d.Template == "") {
				t.Errorf("auto-reply allowed to Auto-Submitted mail or without template")
			}
		})
	}
}

func anyContains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestDecideReasonsInOrder(t *testing.T) {
	tr, err := New(Options{Inventory: testInventory(t), Lookup: testCases, Counts: trained(t, bayes.MinEach)})
	if err != nil {
		t.Fatal(err)
	}
	m := &parse.Message{From: "x@example.com", Subject: "SSH attack", Text: hammyText}
	d, err := tr.Decide(context.Background(), m, prose("192.0.2.1", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"no sign of an automated sender", "names our address", "spam filter:", "category", "outcome"}
	i := 0
	for _, r := range d.Reasons {
		if i < len(order) && strings.HasPrefix(r, order[i]) {
			i++
		}
	}
	if i != len(order) {
		t.Errorf("reasons out of order, want prefixes %q in order:\n  %s", order, strings.Join(d.Reasons, "\n  "))
	}
	if len(d.Ours) != 1 || d.Ours[0].Name != "exit-a" || !d.Ours[0].AtKnown {
		t.Errorf("hits %+v, want exit-a at a known time", d.Ours)
	}
	if len(d.Spam.Clues) == 0 {
		t.Error("no clues reported by a trusted filter")
	}
}

func TestDecideErrors(t *testing.T) {
	boom := errors.New("store down")
	tr, err := New(Options{Lookup: cases{err: boom}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Decide(context.Background(), &parse.Message{Subject: "[sortie#1]"}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("lookup failure: %v, want it wrapped", err)
	}
	if _, err := tr.Decide(context.Background(), nil, nil); !errors.Is(err, ErrNoMessage) {
		t.Errorf("nil message: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr2, _ := New(Options{Counts: bayes.NewMemory()})
	if _, err := tr2.Decide(ctx, &parse.Message{Text: "hello"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Options{
		Inventory: Inventory{{Name: "broken"}},
		Rules:     []Rule{{Name: "r", Action: "queue"}},
		Tag:       "bad tag",
	})
	for _, want := range []string{"entry 1 (broken)", `rule 1 ("r")`, `invalid subject tag: "bad tag"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
