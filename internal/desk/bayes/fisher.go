package bayes

import "math"

// Robinson's parameters, bogofilter's defaults.
const (
	// PriorX is the probability assumed for a token the filter knows nothing about.
	PriorX = 0.52
	// Strength is how many messages' worth of weight PriorX carries.
	Strength = 0.0178
	// MinDeviation is how far from 0.5 a token's f must be to take part.
	MinDeviation = 0.375
	// MaxClues is the most tokens that take part in one decision, the most extreme first.
	MaxClues = 150
	// MaxDegrees bounds the degrees of freedom ChiSquareQ accepts (and so its work).
	MaxDegrees = 1 << 20
)

// TokenF returns Robinson's f for a token seen in s of ns learned spam messages and h of nh
// learned ham messages:
//
//	p = (s/ns) / (s/ns + h/nh)
//	f = (Strength·PriorX + n·p) / (Strength + n),  n = s + h
//
// A class with nothing learned contributes a ratio of 0. A token never seen (n = 0) gets
// PriorX. Negative counts are read as 0. The result is always strictly between 0 and 1.
func TokenF(s, h, ns, nh int64) float64 {
	s, h, ns, nh = max(s, 0), max(h, 0), max(ns, 0), max(nh, 0)
	n := float64(s + h)
	if n == 0 {
		return PriorX
	}
	sr, hr := ratio(s, ns), ratio(h, nh)
	if sr+hr == 0 {
		return PriorX
	}
	p := sr / (sr + hr)
	return (Strength*PriorX + n*p) / (Strength + n)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ChiSquareQ returns the upper-tail probability Q(x, v) of the chi-square distribution with v
// degrees of freedom, for even v:
//
//	m = x/2;  Q = e^(−m) · Σ_{i=0}^{v/2−1} m^i / i!,  capped at 1
//
// It sums in log space, so that neither e^(−m) underflows nor m^i/i! overflows for large x
// and v. Q is 1 for x <= 0. v must be a positive even number no larger than MaxDegrees;
// otherwise the result is NaN.
func ChiSquareQ(x float64, v int) float64 {
	return math.Min(math.Exp(LogChiSquareQ(x, v)), 1)
}

// LogChiSquareQ returns ln Q(x, v), computed without leaving log space (see ChiSquareQ).
func LogChiSquareQ(x float64, v int) float64 {
	if v <= 0 || v%2 != 0 || v > MaxDegrees || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 0
	}
	if math.IsInf(x, 1) {
		return math.Inf(-1)
	}
	m := x / 2
	lm := math.Log(m)
	// Terms ln(m^i/i!) − m rise while i < m and fall afterwards; sum them relative to the
	// largest, which is the last one when v/2−1 < m and the one at i = floor(m) otherwise.
	last := v/2 - 1
	peak := min(last, int(math.Floor(m)))
	top := logTerm(peak, m, lm)
	sum := 0.0
	term := -m // ln of term i, built up incrementally
	for i := 0; i <= last; i++ {
		if i > 0 {
			term += lm - math.Log(float64(i))
		}
		sum += math.Exp(term - top)
		if float64(i) > 2*m && term-top < -50 {
			break // past the peak the terms fall faster than by half each: the rest is noise
		}
	}
	return math.Min(top+math.Log(sum), 0)
}

// logTerm returns ln(m^i / i! · e^(−m)).
func logTerm(i int, m, lm float64) float64 {
	lg, _ := math.Lgamma(float64(i) + 1)
	return float64(i)*lm - lg - m
}

// Combine returns Fisher's combined score of the token probabilities fs:
//
//	H = Q(−2 Σ ln f, 2k),  S = Q(−2 Σ ln(1−f), 2k),  score = (1 + H − S) / 2
//
// with k = len(fs). With no tokens the score is 0.5. Values of f outside (0, 1) are clamped
// just inside it; NaN counts as 0.5.
func Combine(fs []float64) float64 {
	if len(fs) == 0 {
		return 0.5
	}
	var lnF, lnNotF float64
	for _, f := range fs {
		if math.IsNaN(f) {
			f = 0.5
		}
		f = math.Min(math.Max(f, 1e-300), 1-1e-16)
		lnF += math.Log(f)
		lnNotF += math.Log1p(-f)
	}
	v := 2 * len(fs)
	h := ChiSquareQ(-2*lnF, v)
	s := ChiSquareQ(-2*lnNotF, v)
	return (1 + h - s) / 2
}
