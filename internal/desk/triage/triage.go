package triage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
)

// Options configure a Triage.
type Options struct {
	// Inventory lists our addresses over time.
	Inventory Inventory
	// Rules are the operator's sender rules, tried in order.
	Rules []Rule
	// Tag is the word of our subject tag "[TAG#123]"; empty means DefaultTag.
	Tag string
	// Counts is the spam filter's learned data; nil means no filter (every mail the rules
	// do not decide is unsure).
	Counts bayes.Counts
	// Lookup finds our cases for replies; nil means replies are not recognised.
	Lookup Lookup
}

// Triage decides about complaint mails. It is safe for concurrent use.
type Triage struct {
	inv    Inventory
	rules  *Rules
	tag    *regexp.Regexp
	counts bayes.Counts
	lookup Lookup
}

// New checks the options and returns a Triage. The error lists every problem found.
func New(o Options) (*Triage, error) {
	inv, errInv := o.Inventory.Normalize()
	rules, errRules := CompileRules(o.Rules)
	tag, errTag := tagPattern(o.Tag)
	if err := errors.Join(errInv, errRules, errTag); err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	return &Triage{inv: inv, rules: rules, tag: tag, counts: o.Counts, lookup: o.Lookup}, nil
}

// Bounds of Decide.
const (
	maxReports   = 100
	maxAddresses = 256
	shownHits    = 5
)

// ErrNoMessage is returned by Decide for a nil message.
var ErrNoMessage = errors.New("triage: no message")

// Decide triages one decoded mail and its reports (as parse.Parse returns them). It errs only
// when a lookup or the spam filter's store fails.
func (t *Triage) Decide(ctx context.Context, m *parse.Message, reports []parse.Report) (Decision, error) {
	if m == nil {
		return Decision{}, ErrNoMessage
	}
	if len(reports) > maxReports {
		reports = reports[:maxReports]
	}
	var d Decision
	why := func(format string, a ...any) { d.Reasons = append(d.Reasons, fmt.Sprintf(format, a...)) }

	// 1. A reply to one of our cases?
	rm, notes, err := t.findReply(ctx, m, reports)
	if err != nil {
		return Decision{}, err
	}
	d.Reasons = append(d.Reasons, notes...)
	if rm.caseID != 0 {
		d.ReplyTo, d.ReplyBy = rm.caseID, rm.by
		why("reply to our case %d (%s)", rm.caseID, rm.by)
	}

	// 2. An automated sender? A sender rule?
	auto := detectAutomated(m, reports)
	d.Automated, d.AutomatedBy, d.AutoSubmitted = len(auto.why) > 0, auto.why, auto.autoSubmitted
	if d.Automated {
		why("automated sender: %s", strings.Join(auto.why, "; "))
	} else {
		why("no sign of an automated sender")
	}
	rule, action, ruleCat, matched := t.rules.Match(m)
	if matched {
		d.Rule, d.Action = rule.Name, action
		why("sender rule %q matches: %s", rule.Name, action)
	}

	// 3. Does it name our address, at a time it was ours?
	d.Ours = t.hits(reports)
	d.NamesOurs = len(d.Ours) > 0
	for _, h := range d.Ours {
		d.OursAtTime = d.OursAtTime || h.AtTime
	}
	d.Reasons = append(d.Reasons, hitReasons(d.Ours, reports)...)

	// 4. The spam filter.
	if d.Spam, err = t.classify(ctx, m); err != nil {
		return Decision{}, err
	}
	why("%s", spamReason(d.Spam, t.counts != nil))

	// 5. The category.
	var catWhy string
	d.Category, catWhy = decideCategory(m, reports, rule.Name, ruleCat, d.NamesOurs)
	why("%s", catWhy)

	t.settle(&d, auto, rule, matched, reports)
	return d, nil
}

func (t *Triage) classify(ctx context.Context, m *parse.Message) (bayes.Result, error) {
	if t.counts == nil {
		return bayes.Result{Score: 0.5, Outcome: bayes.OutcomeUnsure}, nil
	}
	r, err := bayes.Classify(ctx, t.counts, bayes.Tokenize(m))
	if err != nil {
		return bayes.Result{}, fmt.Errorf("triage: spam filter: %w", err)
	}
	return r, nil
}

func spamReason(r bayes.Result, filter bool) string {
	switch {
	case !filter:
		return "no spam filter: rules only"
	case !r.Trusted:
		return fmt.Sprintf("spam filter not trusted yet (learned %d spam, %d ham; needs %d of each): score %.4f, rules only",
			r.LearnedSpam, r.LearnedHam, bayes.MinEach, r.Score)
	default:
		return fmt.Sprintf("spam filter: score %.4f, %s", r.Score, r.Outcome)
	}
}
