package bayes

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// Thresholds of the three outcomes, and how much the filter must have learned to be trusted.
const (
	// HamAtMost is the highest score still classed ham.
	HamAtMost = 0.45
	// SpamAtLeast is the lowest score classed spam.
	SpamAtLeast = 0.99
	// MinEach is how many messages of each class must have been learned before the filter's
	// outcome is trusted.
	MinEach = 200
	// ShownClues is how many deciding tokens a Result keeps for display.
	ShownClues = 15
)

// Count is how many learned messages of each class held a token.
type Count struct {
	Spam int64
	Ham  int64
}

// Counts is the learned data the filter reads. Implementations must be safe for concurrent
// use. Tokens returns counts only for the tokens it knows; a token absent from the map was
// never learned.
type Counts interface {
	Totals(ctx context.Context) (spam, ham int64, err error)
	Tokens(ctx context.Context, toks []string) (map[string]Count, error)
}

// Outcome is the filter's verdict.
type Outcome string

// The three outcomes.
const (
	OutcomeHam    Outcome = "ham"
	OutcomeUnsure Outcome = "unsure"
	OutcomeSpam   Outcome = "spam"
)

// Clue is one token that took part in a decision, with its probability f.
type Clue struct {
	Token string  `json:"token"`
	F     float64 `json:"f"`
}

// Result is the filter's answer for one message.
type Result struct {
	// Score is Fisher's combined score in [0, 1]: near 0 ham, near 1 spam.
	Score   float64 `json:"score"`
	Outcome Outcome `json:"outcome"`
	// Trusted is false while fewer than MinEach messages of either class have been learned;
	// the Outcome is then always OutcomeUnsure, whatever the Score.
	Trusted bool `json:"trusted"`
	// Clues are the deciding tokens, the most extreme first, at most ShownClues of them.
	Clues []Clue `json:"clues,omitempty"`
	// Used is how many tokens took part (at most MaxClues).
	Used int `json:"used"`
	// LearnedSpam and LearnedHam are the totals the decision was made with.
	LearnedSpam int64 `json:"learned_spam"`
	LearnedHam  int64 `json:"learned_ham"`
}

// OutcomeOf maps a score onto the three outcomes, as a trusted filter does.
func OutcomeOf(score float64) Outcome {
	switch {
	case score <= HamAtMost:
		return OutcomeHam
	case score >= SpamAtLeast:
		return OutcomeSpam
	default:
		return OutcomeUnsure
	}
}

// Classify scores tokens against the learned counts. Tokens are used once each however often
// they are listed; at most MaxTokens of them are looked up.
func Classify(ctx context.Context, c Counts, tokens []string) (Result, error) {
	ns, nh, err := c.Totals(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("bayes: reading learned totals: %w", err)
	}
	r := Result{Score: 0.5, Outcome: OutcomeUnsure, LearnedSpam: ns, LearnedHam: nh}
	r.Trusted = ns >= MinEach && nh >= MinEach
	toks := unique(tokens, MaxTokens)
	if ns+nh == 0 || len(toks) == 0 {
		return r, nil
	}
	counts, err := c.Tokens(ctx, toks)
	if err != nil {
		return Result{}, fmt.Errorf("bayes: reading token counts: %w", err)
	}
	clues := selectClues(toks, counts, ns, nh)
	fs := make([]float64, len(clues))
	for i, cl := range clues {
		fs[i] = cl.F
	}
	r.Score = Combine(fs)
	r.Used = len(clues)
	r.Clues = clues[:min(len(clues), ShownClues)]
	if r.Trusted {
		r.Outcome = OutcomeOf(r.Score)
	}
	return r, nil
}

// selectClues returns the tokens whose f is at least MinDeviation from 0.5, the most extreme
// first (ties by token, for a stable order), at most MaxClues of them.
func selectClues(toks []string, counts map[string]Count, ns, nh int64) []Clue {
	var clues []Clue
	for _, t := range toks {
		c, ok := counts[t]
		if !ok {
			continue
		}
		f := TokenF(c.Spam, c.Ham, ns, nh)
		if math.Abs(f-0.5) >= MinDeviation {
			clues = append(clues, Clue{Token: t, F: f})
		}
	}
	slices.SortFunc(clues, func(a, b Clue) int {
		if c := cmp.Compare(math.Abs(b.F-0.5), math.Abs(a.F-0.5)); c != 0 {
			return c
		}
		return cmp.Compare(a.Token, b.Token)
	})
	return clues[:min(len(clues), MaxClues)]
}

// unique returns toks without repeats, in first-seen order, at most limit of them.
func unique(toks []string, limit int) []string {
	seen := make(map[string]bool, min(len(toks), limit))
	out := make([]string, 0, min(len(toks), limit))
	for _, t := range toks {
		if len(out) == limit {
			break
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
