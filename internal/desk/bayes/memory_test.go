package bayes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func snapshot(t *testing.T, m *Memory, toks ...string) (int64, int64, map[string]Count) {
	t.Helper()
	ctx := context.Background()
	s, h, err := m.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Tokens(ctx, toks)
	if err != nil {
		t.Fatal(err)
	}
	return s, h, c
}

func TestMemoryLearnIdempotent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	changed, err := m.Learn(ctx, "h1", ClassSpam, []string{"a", "b", "a"})
	if err != nil || !changed {
		t.Fatalf("first learn: changed %v err %v, want true nil", changed, err)
	}
	changed, err = m.Learn(ctx, "h1", ClassSpam, []string{"a", "b", "c"})
	if err != nil || changed {
		t.Fatalf("same hash, same class: changed %v err %v, want false nil", changed, err)
	}
	s, h, c := snapshot(t, m, "a", "b", "c")
	if s != 1 || h != 0 {
		t.Errorf("totals %d/%d, want 1/0", s, h)
	}
	want := map[string]Count{"a": {Spam: 1}, "b": {Spam: 1}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
}

func TestMemoryLearnMovesClass(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	mustLearn(t, m, "h1", ClassSpam, []string{"a", "b"})
	mustLearn(t, m, "h2", ClassSpam, []string{"a"})
	changed, err := m.Learn(ctx, "h1", ClassHam, []string{"a", "b"})
	if err != nil || !changed {
		t.Fatalf("relearn as ham: changed %v err %v", changed, err)
	}
	s, h, c := snapshot(t, m, "a", "b")
	if s != 1 || h != 1 {
		t.Errorf("totals %d/%d, want 1/1", s, h)
	}
	want := map[string]Count{"a": {Spam: 1, Ham: 1}, "b": {Ham: 1}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	if cl, ok := m.ClassOf("h1"); !ok || cl != ClassHam {
		t.Errorf("ClassOf(h1) = %q %v, want ham", cl, ok)
	}
}

func TestMemoryUnlearn(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	mustLearn(t, m, "h1", ClassHam, []string{"x", "y"})
	mustLearn(t, m, "h2", ClassSpam, []string{"y"})
	if changed, err := m.Unlearn(ctx, "h1"); err != nil || !changed {
		t.Fatalf("unlearn h1: %v %v", changed, err)
	}
	if changed, err := m.Unlearn(ctx, "h1"); err != nil || changed {
		t.Fatalf("unlearn h1 twice: %v %v, want false nil", changed, err)
	}
	if changed, _ := m.Unlearn(ctx, "never"); changed {
		t.Error("unlearning an unknown hash reported a change")
	}
	s, h, c := snapshot(t, m, "x", "y")
	if s != 1 || h != 0 {
		t.Errorf("totals %d/%d, want 1/0", s, h)
	}
	if diff := cmp.Diff(map[string]Count{"y": {Spam: 1}}, c); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	m.Unlearn(ctx, "h2")
	if len(m.tokens) != 0 || len(m.learned) != 0 {
		t.Errorf("after unlearning everything: %d tokens, %d messages left", len(m.tokens), len(m.learned))
	}
}

func TestMemoryLearnErrors(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if _, err := m.Learn(ctx, "", ClassSpam, nil); !errors.Is(err, ErrHash) {
		t.Errorf("empty hash: %v, want ErrHash", err)
	}
	if _, err := m.Learn(ctx, "h", Class("maybe"), nil); !errors.Is(err, ErrClass) {
		t.Errorf("bad class: %v, want ErrClass", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Learn(cctx, "h", ClassSpam, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if s, h, _ := snapshot(t, m); s != 0 || h != 0 {
		t.Errorf("failed learns changed totals to %d/%d", s, h)
	}
}

func TestMemoryBoundsTokens(t *testing.T) {
	m := NewMemory()
	toks := make([]string, MaxTokens+500)
	for i := range toks {
		toks[i] = fmt.Sprint("t", i)
	}
	mustLearn(t, m, "big", ClassSpam, toks)
	if len(m.tokens) != MaxTokens {
		t.Errorf("learned %d tokens of one message, want at most %d", len(m.tokens), MaxTokens)
	}
}

// TestMemoryConcurrent learns, unlearns and classifies from many goroutines; run with -race.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				hash := fmt.Sprintf("m%d", i%50)
				class := ClassSpam
				if (i+g)%2 == 0 {
					class = ClassHam
				}
				if _, err := m.Learn(ctx, hash, class, []string{"a", hash}); err != nil {
					t.Error(err)
				}
				if i%7 == 0 {
					m.Unlearn(ctx, hash)
				}
				if _, err := Classify(ctx, m, []string{"a", hash}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s, h, c := snapshot(t, m, "a")
	if got := c["a"]; got.Spam != s || got.Ham != h {
		t.Errorf("token a counted %+v, totals %d/%d: every message holds it once", got, s, h)
	}
	if s+h != int64(len(m.learned)) {
		t.Errorf("totals %d+%d, but %d messages learned", s, h, len(m.learned))
	}
}
