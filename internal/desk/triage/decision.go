package triage

import (
	"net/netip"
	"time"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
)

// Outcome is what the desk does with a mail.
type Outcome string

// The outcomes of triage.
const (
	// OutcomeReply attaches the mail to our case Decision.ReplyTo.
	OutcomeReply Outcome = "reply"
	// OutcomeQueue makes new work for a volunteer.
	OutcomeQueue Outcome = "queue"
	// OutcomeIgnored ignores the mail and counts it.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeSpam sets the mail aside as spam (kept and searchable).
	OutcomeSpam Outcome = "spam"
	// OutcomeUnsure sets the mail aside for a volunteer to mark spam or not.
	OutcomeUnsure Outcome = "unsure"
)

// Hit is one of our addresses named in a complaint.
type Hit struct {
	Addr netip.Addr `json:"addr"`
	// Name is the inventory's name for the entry that held Addr (at At when it did, else at
	// some other time).
	Name string `json:"name"`
	// At is the time the report gives for the activity; AtKnown is false when it gives none.
	At      time.Time `json:"at,omitzero"`
	AtKnown bool      `json:"at_known"`
	// AtTime is true when Addr was ours at At, or, when the time is unknown, ours at some
	// time in the inventory.
	AtTime bool `json:"at_time"`
}

// Decision is what triage decided about one mail, and why.
type Decision struct {
	// ReplyTo is our case this mail replies to, 0 if none; ReplyBy says how it was found.
	ReplyTo int64  `json:"reply_to,omitempty"`
	ReplyBy string `json:"reply_by,omitempty"`
	// Automated is true when the sender is a machine; AutomatedBy lists every sign found.
	Automated   bool     `json:"automated"`
	AutomatedBy []string `json:"automated_by,omitempty"`
	// AutoSubmitted is true for RFC 3834 Auto-Submitted mail, which is never answered
	// automatically.
	AutoSubmitted bool `json:"auto_submitted,omitempty"`
	// Rule names the sender rule that matched ("" when none did). Action is the action taken:
	// the rule's, or the default (ignore for an automated sender, queue otherwise).
	Rule   string `json:"rule,omitempty"`
	Action Action `json:"action,omitempty"`
	// AutoReplyAllowed is true when the matching rule allows an automatic reply with Template
	// and nothing forbids one (RFC 3834 Auto-Submitted, Precedence bulk/junk/list, an empty
	// return path, spam).
	AutoReplyAllowed bool   `json:"auto_reply_allowed,omitempty"`
	Template         string `json:"template,omitempty"`
	// Ours lists our addresses the reports name. NamesOurs is true when there is any;
	// OursAtTime when one of them was ours at the reported time.
	Ours       []Hit `json:"ours,omitempty"`
	NamesOurs  bool  `json:"names_ours"`
	OursAtTime bool  `json:"ours_at_time"`
	// Spam is the spam filter's result, reported even when the never-spam invariants
	// overrule it.
	Spam bayes.Result `json:"spam"`
	// NeverSpam says which never-spam invariant holds ("" when none does).
	NeverSpam string         `json:"never_spam,omitempty"`
	Outcome   Outcome        `json:"outcome"`
	Category  parse.Category `json:"category"`
	// Reasons are short sentences, in decision order, saying why the mail was triaged so.
	Reasons []string `json:"reasons"`
}
