package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"sortie.dev/sortie/internal/crashpoint"
	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/desk/triage"
	"sortie.dev/sortie/internal/store"
)

// process parses, triages and files one stored message. Everything it writes goes in one
// transaction (store.Record): a crash before the commit leaves the message waiting, to be
// processed again from the start.
func (d *Desk) process(ctx context.Context, id int64) error {
	raw, err := d.store.Raw(ctx, id)
	if err != nil {
		return err
	}
	if raw == nil {
		return &badMessage{reason: "purged before it was processed"}
	}
	msg, reports, err := parse.Parse(raw)
	if err != nil {
		return &badMessage{reason: "not a mail: " + err.Error()}
	}
	crashpoint.Hit("desk.parsed")
	dec, err := d.tri.Decide(ctx, msg, reports)
	if err != nil {
		return err
	}
	crashpoint.Hit("desk.decided")
	return d.store.Record(ctx, record(id, msg, reports, dec))
}

// record turns a triage decision into what the store files.
func record(id int64, msg *parse.Message, reports []parse.Report, dec triage.Decision) store.Record {
	r := store.Record{
		MessageID:  id,
		Outcome:    string(dec.Outcome),
		Category:   string(dec.Category),
		Automated:  dec.Automated,
		NamesOurs:  dec.NamesOurs,
		OursAtTime: dec.OursAtTime,
		Rule:       dec.Rule,
		ReplyTo:    dec.ReplyTo,
		From:       msg.From,
		Subject:    msg.Subject,
		MessageRef: msg.MessageID,
		Reasons:    dec.Reasons,
	}
	if dec.Spam.Trusted || dec.Spam.Score > 0 {
		r.SpamScore, r.HasScore = dec.Spam.Score, true
	}
	if len(reports) == 0 {
		reports = []parse.Report{{Format: parse.FormatProse}}
	}
	for _, rep := range reports {
		data, _ := json.Marshal(rep)
		key := rep.NoticeID
		if key == "" {
			sum := sha256.Sum256(data)
			key = "sha256:" + hex.EncodeToString(sum[:])
		}
		category := rep.Category
		if category == parse.CategoryNone || dec.Outcome == triage.OutcomeSpam {
			category = dec.Category
		}
		r.Reports = append(r.Reports, store.ReportRecord{
			Format:      string(rep.Format),
			Category:    string(category),
			OurAddress:  ourAddress(rep, dec),
			OccurredAt:  rep.OccurredAt,
			Complainant: complainant(rep, msg),
			CaseID:      rep.CaseID,
			NoticeID:    rep.NoticeID,
			DedupeKey:   key,
			Data:        data,
		})
	}
	return r
}

// ourAddress is the first address of ours the report names, as text; "" when none.
func ourAddress(rep parse.Report, dec triage.Decision) string {
	for _, h := range dec.Ours {
		if h.Addr == rep.Source || slices.Contains(rep.Addresses, h.Addr) {
			return h.Addr.String()
		}
	}
	return ""
}

func complainant(rep parse.Report, msg *parse.Message) string {
	if rep.Complainant != "" {
		return rep.Complainant
	}
	return msg.From
}
