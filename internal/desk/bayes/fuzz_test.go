package bayes

import (
	"context"
	"math"
	"net/mail"
	"testing"
	"unicode/utf8"

	"sortie.dev/sortie/internal/desk/parse"
)

func FuzzTokenize(f *testing.F) {
	f.Add("Abuse from 192.0.2.1", "scan from 192.0.2.1:22 see https://example.com/a?b=1 mail x@example.org", "a@example.net")
	f.Add("", "\xff\x00\u00e9\u00e9 2001:db8::1 [2001:db8::1]:443 hxxp://bad.example.com", "<>")
	f.Add("WIN $$$", "ＣＬＩＣＫ ｎｏｗ 1234567890123 a.b.c.d.e.f.g.h", "not an address")
	f.Fuzz(func(t *testing.T, subject, text, from string) {
		m := &parse.Message{
			Header:  mail.Header{"Reply-To": {from}, "X-Mailer": {subject}},
			From:    from,
			Subject: subject,
			Text:    text,
		}
		toks := Tokenize(m)
		checkTokens(t, toks)
		for _, tok := range toks {
			if !utf8.ValidString(tok) {
				t.Fatalf("token %q is not UTF-8", tok)
			}
		}
		// Tokenize is deterministic.
		again := Tokenize(m)
		if len(again) != len(toks) {
			t.Fatalf("second run gave %d tokens, first %d", len(again), len(toks))
		}
		// Learning and classifying the tokens works and scores within [0, 1].
		mem := NewMemory()
		ctx := context.Background()
		if _, err := mem.Learn(ctx, "x", ClassSpam, toks); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Learn(ctx, "y", ClassHam, toks[:len(toks)/2]); err != nil {
			t.Fatal(err)
		}
		r, err := Classify(ctx, mem, toks)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("score %v outside [0, 1]", r.Score)
		}
	})
}

func FuzzChiSquareQ(f *testing.F) {
	f.Add(2.0, uint16(1))
	f.Add(1000.0, uint16(150))
	f.Add(1e9, uint16(3))
	f.Fuzz(func(t *testing.T, x float64, half uint16) {
		v := 2 * (int(half) + 1)
		q := ChiSquareQ(x, v)
		if math.IsNaN(x) {
			return
		}
		if math.IsNaN(q) || q < 0 || q > 1 {
			t.Fatalf("Q(%v, %d) = %v, not a probability", x, v, q)
		}
		if lq := LogChiSquareQ(x, v); lq > 0 || math.IsNaN(lq) {
			t.Fatalf("ln Q(%v, %d) = %v", x, v, lq)
		}
	})
}
