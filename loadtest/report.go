package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func numCPU() int { return runtime.NumCPU() }

// openFiles returns this process's open-file limit (the helpers and sortie inherit it).
func openFiles() string {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%d (hard %d)", rl.Cur, rl.Max)
}

// write prints the report as Markdown, ready for docs/hardening.md.
func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "Run of %s (%s scale) on %s.\n\n", r.Date.Format("2006-01-02"), r.Scale, r.Machine)
	fmt.Fprintln(w, "| attack | limits in force | what the attacker got | well-behaved client: served, median latency (× quiet), p95 (× quiet) | sortie: RSS before / at most, descriptors at most / after, goroutines before / at the peak / after |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", res.Scenario.Title(), res.Scenario.Limits(), res.attacker(), res.goodClient(), res.sortie())
	}
	for _, res := range r.Results {
		if len(res.Modes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s, per proxy mode:\n\n| mode | probes | let through (dialled) | refused by the guard | what the attacker saw |\n|---|---|---|---|---|\n", res.Scenario.Title())
		for _, m := range res.Modes {
			fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s |\n", m.Mode, res.Scenario.N, res.Scenario.N-int(m.Refused), m.Refused, counts(m.Counts))
		}
	}
}

// attacker says what the attack obtained.
func (res *result) attacker() string {
	var b strings.Builder
	if res.Scenario.holds() {
		fmt.Fprintf(&b, "%d held at the peak; ", res.Held)
	}
	fmt.Fprintf(&b, "%d sources, %d in flight; %s; %.1f s", res.Scenario.Sources, res.Scenario.Inflight, counts(res.Counts), res.Seconds)
	if g := sum(res.Metrics, "sortie_guard_refusals_total"); g > 0 {
		fmt.Fprintf(&b, "; guard refusals %s", refusals(res.Metrics))
	}
	return b.String()
}

// goodClient says how the well-behaved client fared.
func (res *result) goodClient() string {
	q50, q95 := res.Quiet.quantile(0.5), res.Quiet.quantile(0.95)
	d50, d95 := res.During.quantile(0.5), res.During.quantile(0.95)
	return fmt.Sprintf("%d of %d; %s (%s, ×%.1f); %s (%s, ×%.1f)",
		res.During.Served(), res.During.Served()+res.During.Failed,
		ms(d50), ms(q50), ratio(d50, q50), ms(d95), ms(q95), ratio(d95, q95))
}

// sortie says what sortie held.
func (res *result) sortie() string {
	return fmt.Sprintf("%d / %d MiB; %d / %d descriptors (%d sockets, %d pipes; %.1f s to settle); %d / %d / %d goroutines",
		res.Base.RSSKiB>>10, res.After.PeakKiB>>10, res.MaxFDs, res.After.FDs, res.After.Sockets, res.After.Pipes, res.Settle.Seconds(),
		res.Base.Goroutines, res.Peak.Goroutines, res.After.Goroutines)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// counts prints outcome counts, largest first.
func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// refusals prints the guard's refusals by cause.
func refusals(m map[string]float64) string {
	var parts []string
	for _, c := range []string{"client_tunnels", "client_conn_rate", "client_request_rate", "dest_rate", "port_scan", "sweep", "brute_force"} {
		if v := sum(m, "sortie_guard_refusals_total", `"`+c+`"`); v > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", c, v))
		}
	}
	return strings.Join(parts, ", ")
}
