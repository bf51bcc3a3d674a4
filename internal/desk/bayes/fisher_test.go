package bayes

import (
	"math"
	"testing"
)

// The golden values below were computed independently of this code, with mpmath at 50 digits
// (the regularized upper incomplete gamma function Γ(v/2, x/2)/Γ(v/2) for Q, exact rational
// arithmetic for f). The 0.05 rows are the chi-square table's critical values.

func TestChiSquareQGolden(t *testing.T) {
	tests := []struct {
		name  string
		x     float64
		v     int
		q     float64
		lnQ   float64
		relTo float64
	}{
		{name: "e^-1", x: 2, v: 2, q: 0.36787944117144232, lnQ: -1},
		{name: "3e^-2", x: 4, v: 4, q: 0.40600584970983808, lnQ: -0.90138771133189031},
		{name: "table-5pct-v2", x: 5.991464547107979, v: 2, q: 0.05, lnQ: -2.9957322735539895},
		{name: "table-5pct-v10", x: 18.307038053275146, v: 10, q: 0.05, lnQ: -2.9957322735539909},
		{name: "x100-v50", x: 100, v: 50, q: 0.000034549313829848639, lnQ: -10.273122868154798},
		{name: "x300-v300", x: 300, v: 300, q: 0.48914177025064032, lnQ: -0.71510291281260814},
		{name: "x1000-v300", x: 1000, v: 300, q: 3.7293204855680024e-76, lnQ: -173.68024102593865},
		{name: "underflow", x: 2000, v: 20, q: 0, lnQ: -950.62299837015608},
		{name: "x40-v2", x: 40, v: 2, q: 2.0611536224385578e-9, lnQ: -20},
		{name: "tiny-x", x: 0.001, v: 300, q: 1, lnQ: 0},
		{name: "zero-x", x: 0, v: 2, q: 1, lnQ: 0},
		{name: "negative-x", x: -3, v: 8, q: 1, lnQ: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChiSquareQ(tt.x, tt.v); !close(got, tt.q, 1e-12) {
				t.Errorf("ChiSquareQ(%v, %d) = %.17g, want %.17g", tt.x, tt.v, got, tt.q)
			}
			if got := LogChiSquareQ(tt.x, tt.v); !close(got, tt.lnQ, 1e-12) {
				t.Errorf("LogChiSquareQ(%v, %d) = %.17g, want %.17g", tt.x, tt.v, got, tt.lnQ)
			}
		})
	}
}

func TestChiSquareQInvalid(t *testing.T) {
	for _, v := range []int{0, -2, 3, MaxDegrees + 2} {
		if got := ChiSquareQ(10, v); !math.IsNaN(got) {
			t.Errorf("ChiSquareQ(10, %d) = %v, want NaN", v, got)
		}
	}
	if got := ChiSquareQ(math.NaN(), 2); !math.IsNaN(got) {
		t.Errorf("ChiSquareQ(NaN, 2) = %v, want NaN", got)
	}
	if got := ChiSquareQ(math.Inf(1), 2); got != 0 {
		t.Errorf("ChiSquareQ(+Inf, 2) = %v, want 0", got)
	}
}

// TestChiSquareQMonotone checks the shape: Q falls as x grows and rises with v.
func TestChiSquareQMonotone(t *testing.T) {
	for v := 2; v <= 300; v += 2 {
		prev := 1.0
		for x := 0.0; x < 1500; x += 7.5 {
			q := ChiSquareQ(x, v)
			if q > prev+1e-13 || q < 0 || q > 1 {
				t.Fatalf("Q(%v, %d) = %v after %v: not a falling tail probability", x, v, q, prev)
			}
			prev = q
			if v > 2 && ChiSquareQ(x, v-2) > q+1e-13 {
				t.Fatalf("Q(%v, %d) = %v < Q(%v, %d)", x, v, q, x, v-2)
			}
		}
	}
}

func TestTokenFGolden(t *testing.T) {
	tests := []struct {
		name         string
		s, h, ns, nh int64
		want         float64
	}{
		{name: "spam-only", s: 10, h: 0, ns: 200, nh: 200, want: 0.99914711812972908},
		{name: "ham-only", s: 0, h: 10, ns: 200, nh: 200, want: 0.00092395535946016091},
		{name: "mixed-uneven-totals", s: 5, h: 5, ns: 300, nh: 100, want: 0.25047974605202739},
		{name: "seen-once", s: 1, h: 0, ns: 250, nh: 220, want: 0.99160542346236982},
		{name: "no-spam-learned", s: 3, h: 1, ns: 0, nh: 200, want: 0.0023037483199761063},
		{name: "mostly-spam", s: 40, h: 2, ns: 400, nh: 250, want: 0.92575396353185766},
		{name: "unseen", s: 0, h: 0, ns: 400, nh: 250, want: PriorX},
		{name: "nothing-learned", s: 0, h: 0, ns: 0, nh: 0, want: PriorX},
		{name: "negative-read-as-zero", s: -4, h: 0, ns: 10, nh: 10, want: PriorX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenF(tt.s, tt.h, tt.ns, tt.nh); !close(got, tt.want, 1e-14) {
				t.Errorf("TokenF(%d, %d, %d, %d) = %.17g, want %.17g", tt.s, tt.h, tt.ns, tt.nh, got, tt.want)
			}
		})
	}
}

func TestCombineEdges(t *testing.T) {
	if got := Combine(nil); got != 0.5 {
		t.Errorf("Combine(nil) = %v, want 0.5", got)
	}
	if got := Combine([]float64{0.5, 0.5}); !close(got, 0.5, 1e-12) {
		t.Errorf("Combine(0.5, 0.5) = %v, want 0.5 (no evidence either way)", got)
	}
	many := make([]float64, MaxClues)
	for i := range many {
		many[i] = 0.9999
	}
	if got := Combine(many); got < SpamAtLeast || got > 1 {
		t.Errorf("Combine(150 × 0.9999) = %v, want spam", got)
	}
	for i := range many {
		many[i] = 0.0001
	}
	if got := Combine(many); got > 1e-6 || got < 0 {
		t.Errorf("Combine(150 × 0.0001) = %v, want ≈ 0", got)
	}
	if got := Combine([]float64{0, 1, math.NaN()}); math.IsNaN(got) || got < 0 || got > 1 {
		t.Errorf("Combine(out-of-range values) = %v, want a score in [0, 1]", got)
	}
}

// close reports whether got is within rel (relative) of want, or within 1e-15 of it.
func close(got, want, rel float64) bool {
	if got == want {
		return true
	}
	d := math.Abs(got - want)
	return d <= rel*math.Abs(want) || d <= 1e-15
}
