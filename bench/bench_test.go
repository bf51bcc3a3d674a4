package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		in   []float64
		want summary
	}{
		{name: "odd", in: []float64{5, 1, 3}, want: summary{Median: 3, Min: 1, Max: 5, N: 3}},
		{name: "even", in: []float64{4, 1, 3, 2}, want: summary{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{name: "one", in: []float64{7}, want: summary{Median: 7, Min: 7, Max: 7, N: 1}},
		{name: "NaN ignored", in: []float64{nan, 2, nan, 4, 9}, want: summary{Median: 4, Min: 2, Max: 9, N: 3}},
		{name: "nothing", in: []float64{nan}, want: summary{Median: nan, Min: nan, Max: nan}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, summarize(c.in), cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("summarize(%v) (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var hundred []float64
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, float64(i))
	}
	cases := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{name: "p50 of 100", sorted: hundred, p: 50, want: 50},
		{name: "p99 of 100", sorted: hundred, p: 99, want: 99},
		{name: "p100", sorted: hundred, p: 100, want: 100},
		{name: "p99 of 3", sorted: []float64{1, 2, 3}, p: 99, want: 3},
		{name: "p50 of 1", sorted: []float64{8}, p: 50, want: 8},
		{name: "tiny p", sorted: []float64{1, 2, 3}, p: 0.001, want: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.sorted, c.p); got != c.want {
				t.Errorf("percentile(p%v) = %v, want %v", c.p, got, c.want)
			}
		})
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile(nil) = %v, want NaN", got)
	}
}

func TestParseStat(t *testing.T) {
	cases := []struct {
		name      string
		stat      string
		wantPPID  int
		wantTicks int64
		wantErr   bool
	}{
		{name: "plain", stat: "1234 (sortie) S 99 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0",
			wantPPID: 99, wantTicks: 325},
		{name: "name with spaces and parens", stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0",
			wantPPID: 1, wantTicks: 7},
		{name: "no name", stat: "7 a R 1", wantErr: true},
		{name: "short", stat: "7 (x) R 1 2 3", wantErr: true},
		{name: "bad utime", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 4 0 0", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ppid, ticks, err := parseStat([]byte(c.stat))
			if (err != nil) != c.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, c.wantErr)
			}
			if err == nil && (ppid != c.wantPPID || ticks != c.wantTicks) {
				t.Errorf("parseStat = %d, %d; want %d, %d", ppid, ticks, c.wantPPID, c.wantTicks)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	cases := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{name: "found", status: "Name:\tx\nVmPeak:\t 10 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n", want: 5120},
		{name: "missing", status: "Name:\tx\n", wantErr: true},
		{name: "bad unit", status: "VmRSS:\t5 MB\n", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(c.status))
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("parseVmRSS = %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestSampleTreeSelf(t *testing.T) {
	s, err := sampleTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.FDs < 3 || s.Procs < 1 {
		t.Errorf("sampleTree(self) = %+v, want positive RSS, 3+ descriptors, 1+ process", s)
	}
}

func TestParseVersion(t *testing.T) {
	cases := []struct {
		name, out, re, want string
	}{
		{name: "squid", out: "Squid Cache: Version 5.7\nService Name: squid\n", re: `Version ([0-9.]+)`, want: "5.7"},
		{name: "dante", out: "Dante v1.4.2.  Copyright", re: `Dante v([0-9]+(?:\.[0-9]+)*)`, want: "1.4.2"},
		{name: "no match", out: "nothing", re: `v([0-9]+)`, want: "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseVersion([]byte(c.out), c.re); got != c.want {
				t.Errorf("parseVersion = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTimeWaitCount(t *testing.T) {
	cases := []struct {
		name, sockstat string
		want           int
	}{
		{name: "found", sockstat: "sockets: used 9\nTCP: inuse 1 orphan 0 tw 524 alloc 1 mem 32\nUDP: inuse 0 mem 256\n", want: 524},
		{name: "no tcp line", sockstat: "sockets: used 9\n", want: -1},
		{name: "no tw field", sockstat: "TCP: inuse 1 orphan 0\n", want: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := timeWaitCount([]byte(c.sockstat)); got != c.want {
				t.Errorf("timeWaitCount = %d, want %d", got, c.want)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	cases := []struct {
		name string
		r    int
		want []string
	}{
		{name: "run 0", r: 0, want: []string{"a", "b", "c"}},
		{name: "run 1", r: 1, want: []string{"b", "c", "a"}},
		{name: "run 4", r: 4, want: []string{"b", "c", "a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, rotate(xs, c.r)); diff != "" {
				t.Errorf("rotate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePhases(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    phases
		wantErr bool
	}{
		{name: "all", in: "all", want: phases{loads: true, idle: true}},
		{name: "idle", in: "idle", want: phases{idle: true}},
		{name: "loads", in: "loads", want: phases{loads: true}},
		{name: "both listed", in: "loads, idle", want: phases{loads: true, idle: true}},
		{name: "unknown", in: "idle,memory", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parsePhases(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("parsePhases(%q) error = %v, want error %v", c.in, err, c.wantErr)
			}
			if got != c.want {
				t.Errorf("parsePhases(%q) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

// fakeReport is a report with figures chosen so that some targets are met and some missed.
func fakeReport() *report {
	s := func(m float64) summary { return summary{Median: m, Min: m * 0.9, Max: m * 1.1, N: 5} }
	return &report{
		Names:    []string{"direct", "bare", "sortie", "squid"},
		Versions: map[string]string{"direct": "-", "bare": "this checkout", "sortie": "dev", "squid": "5.7"},
		Missing:  []string{"tinyproxy"},
		Runs:     5,
		Sum: map[string]map[string]summary{
			"direct": {figStream1: s(4000), figForward: s(40000), figEchoP50: s(20), figEchoP99: s(50)},
			"bare":   {figStream1: s(2000), figStream1 + cpuSuffix: s(0.3)},
			"sortie": {figStream1: s(1950), figStream1 + cpuSuffix: s(0.1), figForward: s(20000),
				figEchoP50: s(100), figEchoP99: s(100), figIdle1kKiB: s(10), figIdle9kKiB: s(10.5), figIdle9kFDs: s(2)},
			"squid": {figStream1: s(1000), figStream1 + cpuSuffix: s(0.5)},
		},
	}
}

func TestTargets(t *testing.T) {
	got := map[string]string{}
	for _, tg := range fakeReport().targets() {
		got[tg.Name] = tg.status()
	}
	want := map[string]string{
		"connect1 CPU per GB vs best peer":         "MET", // 0.1 / 0.5 = 0.2
		"connect1 throughput vs bare":              "MET", // 0.975
		"connect8 CPU per GB vs best peer":         "UNKNOWN",
		"connect8 throughput vs bare":              "UNKNOWN",
		"forward keep-alive vs direct":             "MET", // 0.5
		"new CONNECT tunnel per request vs direct": "UNKNOWN",
		"new SOCKS5 tunnel per request vs direct":  "UNKNOWN",
		"requests through a kept tunnel vs direct": "UNKNOWN",
		"echo RTT p50 vs direct":                   "MISSED", // 5×
		"echo RTT p99 vs direct":                   "MET",    // 2×
		"RSS per idle tunnel at 9,000":             "MET",
		"descriptors per idle tunnel at 9,000":     "MET",
		"1 stream beside 9,000 idle vs quiet":      "UNKNOWN",
		"flat per-tunnel RSS, 9,000 vs 1,000":      "MET",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestCell(t *testing.T) {
	r := fakeReport()
	cases := []struct {
		name, contender string
		fig             figureInfo
		spread          bool
		want            string
	}{
		{name: "ratio to direct", contender: "sortie", fig: figures[0], want: "1950 (0.49×)"},
		{name: "spread", contender: "sortie", fig: figures[0], spread: true, want: "1950 [1755–2145] (0.49×)"},
		{name: "direct has no ratio", contender: "direct", fig: figures[0], want: "4000"},
		{name: "not measured", contender: "squid", fig: figures[6], want: "—"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.cell(c.contender, c.fig, c.spread); got != c.want {
				t.Errorf("cell = %q, want %q", got, c.want)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := fakeReport().markdown()
	for _, want := range []string{
		"# Benchmarks", "- Kernel: Linux", "- Cores:", "| squid | 5.7 |", "Not installed, skipped: tinyproxy.",
		"Per-client limits are off", "| connect1 CPU per GB vs best peer | 0.20 (want ≤ 0.40× squid) | MET |",
		"| echo RTT p50 vs direct | 5.00 (want ≤ 2.50×) | MISSED |", "apt-get install -y tinyproxy",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestSmoke runs the whole benchmark in its quick form. It takes about a minute and starts
// every installed peer, so it runs only when SORTIE_BENCH_SMOKE=1.
func TestSmoke(t *testing.T) {
	if os.Getenv("SORTIE_BENCH_SMOKE") != "1" {
		t.Skip("set SORTIE_BENCH_SMOKE=1 to run the quick benchmark")
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := run([]string{"-quick", "-src", "..", "-out", out}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| sortie |", "| bare |", "CONNECT throughput, 1 stream"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "run 1, sortie:") {
		t.Errorf("sortie failed:\n%s", md)
	}
}

// TestMain lets the test binary play the roles the smoke run re-executes it for.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-role" {
		if err := run(os.Args[1:]); err != nil {
			os.Stderr.WriteString("bench: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
