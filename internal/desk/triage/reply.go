package triage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sortie.dev/sortie/internal/desk/parse"
)

// Lookup finds our cases for replies. The store implements it. Each method returns the case's
// ID and whether one was found; an error is a failure to look, not "not found".
type Lookup interface {
	// CaseByTag finds the case with the ID written in our subject tag ("[sortie#123]").
	CaseByTag(ctx context.Context, id int64) (caseID int64, found bool, err error)
	// CaseByMessageID finds the case of a mail we sent, by its Message-ID, given without
	// angle brackets ("abc@desk.example.org").
	CaseByMessageID(ctx context.Context, msgid string) (caseID int64, found bool, err error)
	// CaseByExternalID finds the case a complainant's own case ID belongs to.
	CaseByExternalID(ctx context.Context, complainant, id string) (caseID int64, found bool, err error)
}

// DefaultTag is the subject tag's word when the configuration gives none.
const DefaultTag = "sortie"

// Bounds of the reply lookups.
const (
	maxReferences  = 20
	maxExternalIDs = 16
)

// ErrTag is returned for a subject tag word that cannot be used.
var ErrTag = errors.New("invalid subject tag")

// tagPattern compiles the pattern that finds "[TAG#123]" in a subject, case-insensitively.
func tagPattern(tag string) (*regexp.Regexp, error) {
	if tag == "" {
		tag = DefaultTag
	}
	if len(tag) > 32 || strings.ContainsAny(tag, "[]# \t\r\n") {
		return nil, fmt.Errorf("%w: %q (1 to 32 characters, no brackets, '#' or spaces)", ErrTag, tag)
	}
	return regexp.MustCompile(`(?i)\[` + regexp.QuoteMeta(tag) + `\s*#\s*(\d{1,18})\]`), nil
}

// replyMatch is how a mail was found to be a reply to our case.
type replyMatch struct {
	caseID int64
	by     string
}

// findReply tries, in order, the subject tag, In-Reply-To, References (newest first) and the
// complainants' case IDs. Reasons for near misses (a tag naming an unknown case) go to notes.
func (t *Triage) findReply(ctx context.Context, m *parse.Message, reports []parse.Report) (replyMatch, []string, error) {
	var notes []string
	if t.lookup == nil {
		return replyMatch{}, nil, nil
	}
	if sm := t.tag.FindStringSubmatch(m.Subject); sm != nil {
		id, err := strconv.ParseInt(sm[1], 10, 64)
		if err == nil {
			c, ok, err := t.lookup.CaseByTag(ctx, id)
			if err != nil {
				return replyMatch{}, nil, fmt.Errorf("triage: looking up case %d of subject tag: %w", id, err)
			}
			if ok {
				return replyMatch{c, "subject tag " + sm[0]}, nil, nil
			}
			notes = append(notes, fmt.Sprintf("subject tag %s names no case we know", sm[0]))
		}
	}
	ids := messageIDs(m)
	for i, id := range ids {
		c, ok, err := t.lookup.CaseByMessageID(ctx, id)
		if err != nil {
			return replyMatch{}, nil, fmt.Errorf("triage: looking up the case of message <%s>: %w", id, err)
		}
		if ok {
			by := "References"
			if i == 0 && m.InReplyTo != "" {
				by = "In-Reply-To"
			}
			return replyMatch{c, fmt.Sprintf("%s <%s>", by, id)}, notes, nil
		}
	}
	n := 0
	for _, r := range reports {
		if r.CaseID == "" || n == maxExternalIDs {
			continue
		}
		n++
		c, ok, err := t.lookup.CaseByExternalID(ctx, r.Complainant, r.CaseID)
		if err != nil {
			return replyMatch{}, nil, fmt.Errorf("triage: looking up case ID %q of %q: %w", r.CaseID, r.Complainant, err)
		}
		if ok {
			return replyMatch{c, fmt.Sprintf("case ID %s of %s", r.CaseID, orDash(r.Complainant))}, notes, nil
		}
	}
	return replyMatch{}, notes, nil
}

// messageIDs returns In-Reply-To and then References newest first, without angle brackets,
// each once, at most maxReferences+1 of them.
func messageIDs(m *parse.Message) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.TrimSpace(id)
		id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
		if id != "" && !seen[id] && len(id) <= 998 {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range strings.Fields(m.InReplyTo) {
		add(id)
		break
	}
	refs := m.References
	for i := len(refs) - 1; i >= 0 && len(refs)-i <= maxReferences; i-- {
		add(refs[i])
	}
	return out
}
