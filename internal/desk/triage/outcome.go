package triage

import (
	"fmt"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
)

// neverSpam returns the never-spam invariant a decision meets, or "". This is the one place
// the invariants live: a mail that names our address at a time it was ours, any machine-made
// report format (not prose), a reply to our case, and mail from an upstream provider or law
// enforcement is never classed spam.
func neverSpam(d *Decision, reports []parse.Report) string {
	switch {
	case d.ReplyTo != 0:
		return fmt.Sprintf("a reply to our case %d", d.ReplyTo)
	case d.OursAtTime:
		return "names our address at a time it was ours"
	case machineFormat(reports) != "":
		return fmt.Sprintf("a machine-made %s report", machineFormat(reports))
	case d.Category == parse.CategoryUpstream:
		return "from an upstream provider"
	case d.Category == parse.CategoryLawEnforcement:
		return "from law enforcement"
	}
	return ""
}

// settle sets the outcome, the action and the auto-reply permission, and says why.
//
// The base outcome comes from the order of the issue: a reply attaches to its case; a
// matching rule's action applies (ignore → ignored, queue and auto-reply → queue); an
// automated sender with no rule is ignored and counted, unless it is an upstream provider or
// law enforcement (queued); anything else is the filter's to judge. Then the filter: a
// trusted spam verdict sets the mail aside as spam, unless a never-spam invariant holds (the
// mail keeps its base outcome) or the mail names an address that was ours at another time
// (unsure: a human looks). For the filter's own mails a trusted ham verdict queues, unsure
// stays unsure, and an untrusted filter leaves them unsure.
func (t *Triage) settle(d *Decision, auto automation, rule Rule, matched bool, reports []parse.Report) {
	d.NeverSpam = neverSpam(d, reports)
	filterJudges := false
	var base string
	switch {
	case d.ReplyTo != 0:
		d.Outcome, d.Action, base = OutcomeReply, "", "attached to our case"
	case matched:
		d.Outcome, base = OutcomeQueue, fmt.Sprintf("rule %q says %s", rule.Name, d.Action)
		if d.Action == ActionIgnore {
			d.Outcome = OutcomeIgnored
		}
	case d.Automated && (d.Category == parse.CategoryUpstream || d.Category == parse.CategoryLawEnforcement):
		d.Outcome, d.Action, base = OutcomeQueue, ActionQueue, fmt.Sprintf("automated sender, but %s: queued for a human", d.Category)
	case d.Automated:
		d.Outcome, d.Action, base = OutcomeIgnored, ActionIgnore, "automated sender and no rule: ignored and counted"
	default:
		d.Outcome, d.Action, base = OutcomeQueue, ActionQueue, "a human sender"
		filterJudges = true
	}
	spam := d.Spam.Trusted && d.Spam.Outcome == bayes.OutcomeSpam
	switch {
	case d.NeverSpam != "":
		if spam {
			d.Reasons = append(d.Reasons, fmt.Sprintf("the filter says spam, but this is never spam: %s", d.NeverSpam))
		} else if filterJudges {
			d.Reasons = append(d.Reasons, fmt.Sprintf("never spam: %s", d.NeverSpam))
		}
	case spam && d.NamesOurs:
		d.Outcome, base = OutcomeUnsure, "the filter says spam, but the mail names an address that was ours at another time"
	case spam:
		d.Outcome, base = OutcomeSpam, "the filter says spam"
	case filterJudges && !d.Spam.Trusted:
		d.Outcome, base = OutcomeUnsure, "no rule decides and the filter is not trusted yet"
	case filterJudges && d.Spam.Outcome == bayes.OutcomeUnsure:
		d.Outcome, base = OutcomeUnsure, "the filter is unsure"
	case filterJudges:
		base = "the filter says ham"
	}
	t.allowAutoReply(d, auto, rule)
	d.Reasons = append(d.Reasons, fmt.Sprintf("outcome %s: %s", d.Outcome, base))
}

func (t *Triage) allowAutoReply(d *Decision, auto automation, rule Rule) {
	if d.Action != ActionAutoReply || d.Outcome != OutcomeQueue {
		return
	}
	if auto.noAutoReply != "" {
		d.Reasons = append(d.Reasons, "no automatic reply: "+auto.noAutoReply)
		return
	}
	d.AutoReplyAllowed, d.Template = true, rule.Template
	d.Reasons = append(d.Reasons, fmt.Sprintf("automatic reply allowed with template %q", rule.Template))
}
