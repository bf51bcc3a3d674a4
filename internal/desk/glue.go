package desk

import (
	"context"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/triage"
	"sortie.dev/sortie/internal/store"
)

// newTriage builds triage from the configuration, over the store's cases and filter counts.
func newTriage(cfg *config.Config, st *store.Store) (*triage.Triage, error) {
	return triage.New(triage.Options{
		Inventory: Inventory(cfg),
		Rules:     rules(cfg.Desk.SenderRules),
		Tag:       cfg.Desk.Tag,
		Counts:    filterCounts{st},
		Lookup:    st,
	})
}

// Inventory is the configuration's egress.addresses as triage reads it.
func Inventory(cfg *config.Config) triage.Inventory {
	inv := make(triage.Inventory, 0, len(cfg.Egress.Addresses))
	for _, a := range cfg.Egress.Addresses {
		inv = append(inv, triage.Owned{Prefix: a.Address.Prefix, Since: a.From(), Until: a.To(), Name: a.Name})
	}
	return inv
}

func rules(in []config.SenderRule) []triage.Rule {
	out := make([]triage.Rule, len(in))
	for i, r := range in {
		out[i] = triage.Rule{Name: r.Name, From: r.From, Header: r.Header, Body: r.Body, Action: r.Action,
			Category: r.Category, Template: r.Template}
	}
	return out
}

// filterCounts reads the spam filter's counts from the store.
type filterCounts struct{ st *store.Store }

func (f filterCounts) Totals(ctx context.Context) (spam, ham int64, err error) {
	return f.st.BayesTotals(ctx)
}

func (f filterCounts) Tokens(ctx context.Context, toks []string) (map[string]bayes.Count, error) {
	got, err := f.st.TokenCounts(ctx, toks)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bayes.Count, len(got))
	for t, c := range got {
		out[t] = bayes.Count{Spam: c.Spam, Ham: c.Ham}
	}
	return out, nil
}
