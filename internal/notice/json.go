package notice

import (
	"encoding/json"
	"time"
)

// BlockList is the JSON form of the block list served at /blocklist.json. Field names are
// stable; dates are RFC 3339 in UTC.
type BlockList struct {
	Operator  string  `json:"operator"`
	Generated string  `json:"generated"` // when this document was made
	Entries   []Entry `json:"entries"`   // newest decision first
}

// Entry is one block-list entry's public record. Exactly one of Domain and Prefix is set;
// nil dates are absent, a nil Port means every port.
type Entry struct {
	ID                string  `json:"id"`
	Active            bool    `json:"active"` // false once Expires has passed
	Reason            string  `json:"reason"`
	Basis             string  `json:"basis"`
	DecidedBy         string  `json:"decided_by"`
	Decided           string  `json:"decided"`
	NoticeURL         string  `json:"notice_url"`
	Expires           *string `json:"expires"`
	Review            *string `json:"review"`
	Domain            *string `json:"domain"`
	IncludeSubdomains bool    `json:"include_subdomains"`
	Prefix            *string `json:"prefix"`
	Port              *uint16 `json:"port"`
	BlockedBy         string  `json:"blocked_by"`
}

func (p *Pages) blockListJSON(now time.Time) ([]byte, error) {
	doc := BlockList{Operator: p.op.Name, Generated: rfc3339(now), Entries: []Entry{}}
	for _, b := range p.blocks {
		e := Entry{
			ID: b.ID, Active: b.Active(now), Reason: b.Reason, Basis: b.Basis, DecidedBy: b.DecidedBy,
			Decided: rfc3339(b.Decided), NoticeURL: b.NoticeURL, Expires: optRFC3339(b.Expires),
			Review: optRFC3339(b.Review), IncludeSubdomains: b.IncludeSubdomains, BlockedBy: b.BlockedBy,
		}
		if b.Domain != "" {
			e.Domain = &b.Domain
		}
		if b.Prefix.IsValid() {
			s := b.Prefix.Masked().String()
			e.Prefix = &s
		}
		if b.Port != 0 {
			port := b.Port
			e.Port = &port
		}
		doc.Entries = append(doc.Entries, e)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optRFC3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}
