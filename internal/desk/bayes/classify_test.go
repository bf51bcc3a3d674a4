package bayes

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// handSet is a small training set whose scores were computed independently (mpmath, see
// fisher_test.go) from the formulas in DESK.md.
func handSet(t *testing.T) *Memory {
	t.Helper()
	m := NewMemory()
	spam := [][]string{
		{"cheap", "pills", "offer", "http://shop.example.com"},
		{"cheap", "offer", "winner"},
		{"pills", "winner", "offer", "click"},
	}
	ham := [][]string{
		{"abuse", "203.0.113.5", "port", "scan"},
		{"abuse", "ssh", "203.0.113.5", "login"},
		{"port", "offer"},
	}
	ctx := context.Background()
	for i, toks := range spam {
		mustLearn(t, m, fmt.Sprintf("s%d", i), ClassSpam, toks)
	}
	for i, toks := range ham {
		mustLearn(t, m, fmt.Sprintf("h%d", i), ClassHam, toks)
	}
	if s, h, _ := m.Totals(ctx); s != 3 || h != 3 {
		t.Fatalf("totals = %d spam, %d ham; want 3, 3", s, h)
	}
	return m
}

func mustLearn(t *testing.T, m *Memory, hash string, c Class, toks []string) {
	t.Helper()
	if _, err := m.Learn(context.Background(), hash, c, toks); err != nil {
		t.Fatal(err)
	}
}

func TestClassifyGoldenScores(t *testing.T) {
	m := handSet(t)
	tests := []struct {
		name  string
		toks  []string
		used  int
		score float64
	}{
		// "offer" (3 spam, 1 ham) has f ≈ 0.749 and is left out; "unknown" was never seen.
		{name: "mixed", toks: []string{"cheap", "offer", "pills", "abuse", "unknown"}, used: 3, score: 0.54697078458946917},
		{name: "hammy", toks: []string{"abuse", "203.0.113.5", "ssh", "winner"}, used: 4, score: 0.39824752377704632},
		{name: "spammy", toks: []string{"cheap", "pills", "winner", "click"}, used: 4, score: 0.99999941324511477},
		{name: "repeats-count-once", toks: []string{"cheap", "cheap", "pills", "winner", "click", "pills"}, used: 4, score: 0.99999941324511477},
		{name: "nothing-known", toks: []string{"unknown", "offer"}, used: 0, score: 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Classify(context.Background(), m, tt.toks)
			if err != nil {
				t.Fatal(err)
			}
			if !close(r.Score, tt.score, 1e-12) || r.Used != tt.used {
				t.Errorf("score %.17g using %d tokens, want %.17g using %d", r.Score, r.Used, tt.score, tt.used)
			}
			if r.Trusted || r.Outcome != OutcomeUnsure {
				t.Errorf("with 3 learned of each class: trusted %v outcome %q, want untrusted unsure", r.Trusted, r.Outcome)
			}
		})
	}
}

func TestClassifyClues(t *testing.T) {
	m := handSet(t)
	r, err := Classify(context.Background(), m, []string{"abuse", "cheap", "offer", "port", "zzz"})
	if err != nil {
		t.Fatal(err)
	}
	// abuse (0 spam, 2 ham) and cheap (2 spam, 0 ham) are equally extreme (|f−0.5| ≈ 0.4954
	// for abuse, 0.4958 for cheap); port (0, 2) as extreme as abuse, so ties go by token.
	var got []string
	for _, c := range r.Clues {
		got = append(got, c.Token)
	}
	want := []string{"cheap", "abuse", "port"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clues (-want +got):\n%s", diff)
	}
	for i := 1; i < len(r.Clues); i++ {
		if dev(r.Clues[i].F) > dev(r.Clues[i-1].F) {
			t.Errorf("clue %d (%v) more extreme than clue %d (%v)", i, r.Clues[i], i-1, r.Clues[i-1])
		}
	}
}

func dev(f float64) float64 {
	if f < 0.5 {
		return 0.5 - f
	}
	return f - 0.5
}

func TestClassifyKeepsMostExtreme(t *testing.T) {
	m := NewMemory()
	// 200 spam and 200 ham learned; 300 tokens of graded spamminess.
	for i := range MinEach {
		var toks []string
		for j := range 300 {
			if i < 200-j/2 { // token j is in fewer spam messages as j grows
				toks = append(toks, fmt.Sprintf("t%03d", j))
			}
		}
		mustLearn(t, m, fmt.Sprintf("s%d", i), ClassSpam, toks)
		mustLearn(t, m, fmt.Sprintf("h%d", i), ClassHam, []string{"ham", fmt.Sprintf("t%03d", i%300)})
	}
	var all []string
	for j := range 300 {
		all = append(all, fmt.Sprintf("t%03d", j))
	}
	r, err := Classify(context.Background(), m, all)
	if err != nil {
		t.Fatal(err)
	}
	if r.Used != MaxClues {
		t.Errorf("used %d tokens, want the %d most extreme", r.Used, MaxClues)
	}
	if len(r.Clues) != ShownClues {
		t.Errorf("kept %d clues, want %d", len(r.Clues), ShownClues)
	}
	if !r.Trusted || r.Outcome != OutcomeSpam {
		t.Errorf("trusted %v outcome %q score %v, want trusted spam", r.Trusted, r.Outcome, r.Score)
	}
}

func TestClassifyTrust(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		spam, ham int
		toks      []string
		trusted   bool
		outcome   Outcome
	}{
		{name: "too-little-spam", spam: MinEach - 1, ham: MinEach, toks: []string{"spamword"}, outcome: OutcomeUnsure},
		{name: "too-little-ham", spam: MinEach, ham: MinEach - 1, toks: []string{"spamword"}, outcome: OutcomeUnsure},
		{name: "trusted-spam", spam: MinEach, ham: MinEach, toks: []string{"spamword", "other"}, trusted: true, outcome: OutcomeSpam},
		{name: "trusted-ham", spam: MinEach, ham: MinEach, toks: []string{"hamword", "other"}, trusted: true, outcome: OutcomeHam},
		{name: "trusted-unknown", spam: MinEach, ham: MinEach, toks: []string{"never-seen"}, trusted: true, outcome: OutcomeUnsure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory()
			for i := range tt.spam {
				mustLearn(t, m, fmt.Sprintf("s%d", i), ClassSpam, []string{"spamword", "other"})
			}
			for i := range tt.ham {
				mustLearn(t, m, fmt.Sprintf("h%d", i), ClassHam, []string{"hamword", "other"})
			}
			r, err := Classify(ctx, m, tt.toks)
			if err != nil {
				t.Fatal(err)
			}
			if r.Trusted != tt.trusted || r.Outcome != tt.outcome {
				t.Errorf("trusted %v outcome %q (score %v), want %v %q", r.Trusted, r.Outcome, r.Score, tt.trusted, tt.outcome)
			}
		})
	}
}

func TestOutcomeOfThresholds(t *testing.T) {
	tests := []struct {
		score float64
		want  Outcome
	}{
		{0, OutcomeHam}, {0.45, OutcomeHam}, {0.4500001, OutcomeUnsure}, {0.5, OutcomeUnsure},
		{0.9899999, OutcomeUnsure}, {0.99, OutcomeSpam}, {1, OutcomeSpam},
	}
	for _, tt := range tests {
		if got := OutcomeOf(tt.score); got != tt.want {
			t.Errorf("OutcomeOf(%v) = %q, want %q", tt.score, got, tt.want)
		}
	}
}

// failing is a Counts whose reads fail, as a broken database would.
type failing struct{ totals, tokens error }

func (f failing) Totals(context.Context) (int64, int64, error) { return 300, 300, f.totals }
func (f failing) Tokens(context.Context, []string) (map[string]Count, error) {
	return nil, f.tokens
}

func TestClassifyErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, c := range []Counts{failing{totals: boom}, failing{tokens: boom}} {
		if _, err := Classify(context.Background(), c, []string{"a"}); !errors.Is(err, boom) {
			t.Errorf("Classify error = %v, want it to wrap %v", err, boom)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Classify(ctx, NewMemory(), []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Classify on a cancelled context: %v, want context.Canceled", err)
	}
}
