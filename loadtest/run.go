package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// options of one run.
type options struct {
	scale    scale
	sortie   string    // a built sortie; empty builds one
	progress io.Writer // one line per step; nil discards
}

// Bounds of the waits around an attack.
const (
	settleTimeout  = 30 * time.Second // for descriptors and goroutines to come back down
	fdSlack        = 16               // sockets above the baseline still counted as "back"
	goroutineSlack = 16
	// pipePool is the most descriptors the relay's pool of pipes may keep (16 pipes of two)
	// once tunnels moved data: kept for reuse, not leaked.
	pipePool     = 32
	eventTimeout = 5 * time.Minute // for a load generator's next event
)

// result is what one scenario measured.
type result struct {
	Scenario    scenario
	Quiet       probeStats // the well-behaved client before the attack
	During      probeStats // and during it
	Base        usage      // sortie before the attack
	Peak        usage      // at the attack's peak (holding attacks), else at its end
	After       usage      // once settled after the attack
	MaxFDs      int        // the most descriptors seen during the attack
	MaxRSSKiB   int
	Held        int            // connections the attack held at its peak
	Counts      map[string]int // outcomes the attacker saw
	Seconds     float64        // the attack's duration, holding included
	Settled     bool           // descriptors and goroutines came back near the baseline
	Settle      time.Duration
	Modes       []modeResult // scan and brute: one per proxy mode
	Metrics     map[string]float64
	ServedAfter bool  // a fetch after the attack got the page
	Running     bool  // sortie was still running after the attack
	ExitErr     error // sortie's exit on SIGTERM
	Output      string
}

// modeResult is a scan or brute force through one proxy mode.
type modeResult struct {
	Mode    string
	Counts  map[string]int
	Refused float64 // refusals by the guard's pattern
}

// report is a whole run.
type report struct {
	Scale   string
	Date    time.Time
	Machine string
	Results []*result
}

// run starts the origin, builds sortie when needed, and runs every scenario in turn.
func run(ctx context.Context, o options) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	if o.progress == nil {
		o.progress = io.Discard
	}
	dir, err := os.MkdirTemp("", "sortie-loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := o.sortie
	if bin == "" {
		fmt.Fprintln(o.progress, "building sortie")
		if bin, err = buildSortie(ctx, dir); err != nil {
			return nil, err
		}
	}
	origin, addrs, err := startOrigin(ctx)
	if err != nil {
		return nil, err
	}
	defer origin.finish()
	r := &runner{bin: bin, dir: dir, origin: addrs, progress: o.progress}
	rep := &report{Scale: o.scale.Name, Date: time.Now(), Machine: machine()}
	for _, sc := range o.scale.Scenarios {
		fmt.Fprintf(o.progress, "%s: %s\n", sc.Name, sc.Title())
		res, err := r.scenario(ctx, sc, o.scale.Quiet)
		if res != nil {
			rep.Results = append(rep.Results, res)
		}
		if err != nil {
			return rep, fmt.Errorf("%s: %w", sc.Name, err)
		}
	}
	return rep, nil
}

// runner runs scenarios against one origin.
type runner struct {
	bin, dir string
	origin   originAddrs
	progress io.Writer
}

// scenario starts a sortie of its own for sc, measures the quiet reference, runs the attack
// while the well-behaved client keeps fetching, then waits for sortie to settle.
func (r *runner) scenario(ctx context.Context, sc scenario, quiet time.Duration) (*result, error) {
	dir := filepath.Join(r.dir, sc.Name)
	login := netip.MustParseAddrPort(r.origin.Login)
	p, err := startSortie(ctx, r.bin, dir, configFor(dir, sc.MaxConns, login.Port()))
	if err != nil {
		return nil, err
	}
	res := &result{Scenario: sc}
	defer func() {
		res.ExitErr = p.stop()
		res.Output = p.output()
	}()
	good := newGoodClient(p.proxy, r.origin.HTTP)
	if _, err := good.fetch(ctx); err != nil {
		return res, fmt.Errorf("the well-behaved client is not served before the attack: %w", err)
	}
	if res.Base, err = p.sample(ctx); err != nil {
		return res, err
	}
	res.Quiet = good.probeFor(ctx, quiet)
	stopSampler := p.watch(ctx, &res.MaxFDs, &res.MaxRSSKiB)
	stopGood := good.background(ctx)
	start := time.Now()
	err = r.attack(ctx, p, sc, res)
	res.modeCounts()
	res.Seconds = time.Since(start).Seconds()
	res.During = stopGood()
	stopSampler()
	if err != nil {
		return res, err
	}
	if res.Metrics, err = p.scrape(ctx); err != nil {
		return res, err
	}
	r.settle(ctx, p, res)
	_, ferr := good.fetch(ctx)
	res.ServedAfter = ferr == nil
	res.Running = p.running()
	return res, nil
}

// attack runs the scenario's load generator(s).
func (r *runner) attack(ctx context.Context, p *sortieProc, sc scenario, res *result) error {
	if sc.Name == "scan" || sc.Name == "brute" {
		err := r.patterns(ctx, p, sc, res)
		if err == nil {
			res.Peak, err = p.sample(ctx)
		}
		return err
	}
	spec := loadSpec{Attack: sc.Name, N: sc.N, Inflight: sc.Inflight, Proxy: p.proxy, Limit: eventTimeout}
	switch sc.Name {
	case "idle":
		spec.Sources = sc.sources(0)
		for _, e := range r.origin.Echo {
			spec.Targets = append(spec.Targets, netip.MustParseAddrPort(e))
		}
	case "malformed":
		spec.Sources = sc.sources(3)
	case "slowloris":
		spec.Sources = sc.sources(4)
		spec.Targets = []netip.AddrPort{netip.MustParseAddrPort(r.origin.HTTP)}
	}
	l, err := startLoad(ctx, spec)
	if err != nil {
		return err
	}
	defer l.finish()
	if sc.holds() {
		ev, err := l.next()
		if err != nil {
			return err
		}
		res.Held = ev.Held
		if res.Peak, err = p.sample(ctx); err != nil {
			return err
		}
		fmt.Fprintf(r.progress, "  peak: %d held, %d descriptors, %d MiB, %d goroutines\n", ev.Held, res.Peak.FDs, res.Peak.RSSKiB>>10, res.Peak.Goroutines)
		sleepCtx(ctx, sc.Hold)
		l.stdin.Close()
	}
	ev, err := l.next()
	if err != nil {
		return err
	}
	res.Counts = ev.Counts
	if !sc.holds() {
		res.Peak, err = p.sample(ctx)
	}
	return err
}

// modeCounts adds up what the attacker saw over every mode.
func (res *result) modeCounts() {
	if len(res.Modes) == 0 {
		return
	}
	res.Counts = map[string]int{}
	for _, m := range res.Modes {
		res.Counts["let through"] += res.Scenario.N - int(m.Refused)
		res.Counts["refused by the guard"] += int(m.Refused)
	}
}

// patterns runs a scan or a brute force through each proxy mode in turn, each mode from its
// own source, and attributes Sortie's dials and refusals to each from its metrics.
func (r *runner) patterns(ctx context.Context, p *sortieProc, sc scenario, res *result) error {
	net, target, cause := byte(1), netip.AddrPortFrom(netip.MustParseAddr(originScan), 2000), "port_scan"
	if sc.Name == "brute" {
		net, target, cause = 2, netip.MustParseAddrPort(r.origin.Login), "brute_force"
	}
	for i, mode := range modes {
		before, err := p.scrape(ctx)
		if err != nil {
			return err
		}
		spec := loadSpec{Attack: sc.Name, Mode: mode, N: sc.N, Inflight: 1, Proxy: p.proxy, Limit: eventTimeout,
			Sources: []netip.Addr{netip.AddrFrom4([4]byte{127, 66, net, byte(i + 1)})}, Targets: []netip.AddrPort{target}}
		l, err := startLoad(ctx, spec)
		if err != nil {
			return err
		}
		ev, err := l.next()
		l.finish()
		if err != nil {
			return err
		}
		after, err := p.scrape(ctx)
		if err != nil {
			return err
		}
		res.Modes = append(res.Modes, modeResult{
			Mode: mode, Counts: ev.Counts,
			Refused: sum(after, "sortie_guard_refusals_total", `"`+cause+`"`) - sum(before, "sortie_guard_refusals_total", `"`+cause+`"`),
		})
	}
	return nil
}

// settle waits, a bounded time, for sortie's descriptors and goroutines to come back near
// their baseline.
func (r *runner) settle(ctx context.Context, p *sortieProc, res *result) {
	start := time.Now()
	for time.Since(start) < settleTimeout && ctx.Err() == nil {
		u, err := p.sample(ctx)
		if err == nil {
			res.After = u
			if u.settled(res.Base) {
				res.Settled = true
				break
			}
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
	res.Settle = time.Since(start)
}

// settled reports whether u is back near base: sockets and goroutines within their slack,
// and no other descriptor than the relay's pool of pipes more.
func (u usage) settled(base usage) bool {
	return u.Sockets <= base.Sockets+fdSlack && u.Goroutines <= base.Goroutines+goroutineSlack &&
		u.Pipes <= base.Pipes+pipePool && u.FDs-u.Sockets-u.Pipes <= base.FDs-base.Sockets-base.Pipes
}

// watch samples sortie's descriptors and memory every 250 ms, keeping the most of each,
// until the returned function is called.
func (p *sortieProc) watch(ctx context.Context, maxFDs, maxRSS *int) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if u, err := p.procUsage(); err == nil {
				*maxFDs, *maxRSS = max(*maxFDs, u.FDs), max(*maxRSS, u.RSSKiB)
			}
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return func() { close(stop); wg.Wait() }
}

func sleepCtx(ctx context.Context, d time.Duration) { sleep(ctx, d) }

// helper is a re-executed loadtest process: the origin or a load generator.
type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr bytes.Buffer
	done   chan struct{}
}

// startHelper re-executes this binary in role with args.
func startHelper(ctx context.Context, role string, args ...string) (*helper, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	h := &helper{cmd: exec.CommandContext(ctx, self, append([]string{"-role", role}, args...)...),
		lines: make(chan []byte, 16), done: make(chan struct{})}
	h.cmd.Stderr = &h.stderr
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- bytes.Clone(sc.Bytes())
		}
		close(h.lines)
		h.cmd.Wait()
		close(h.done)
	}()
	return h, nil
}

// nextLine returns the helper's next output line.
func (h *helper) nextLine() ([]byte, error) {
	select {
	case l, ok := <-h.lines:
		if ok {
			return l, nil
		}
		<-h.done
		return nil, fmt.Errorf("%s ended: %v: %s", filepath.Base(h.cmd.Path), h.cmd.ProcessState, strings.TrimSpace(h.stderr.String()))
	case <-time.After(eventTimeout):
		return nil, errors.New("no event from a helper process in time")
	}
}

// finish closes the helper's input and waits for it to end (killing it after 30 s).
func (h *helper) finish() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
}

// startOrigin starts the origin process and reads its addresses.
func startOrigin(ctx context.Context) (*helper, originAddrs, error) {
	var a originAddrs
	h, err := startHelper(ctx, "origin")
	if err != nil {
		return nil, a, err
	}
	line, err := h.nextLine()
	if err == nil {
		err = json.Unmarshal(line, &a)
	}
	if err != nil {
		h.finish()
		return nil, a, fmt.Errorf("origin: %w", err)
	}
	return h, a, nil
}

// loadProc is a running load generator.
type loadProc struct{ *helper }

func startLoad(ctx context.Context, s loadSpec) (loadProc, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return loadProc{}, err
	}
	h, err := startHelper(ctx, "load", string(b))
	return loadProc{h}, err
}

// next returns the load generator's next event.
func (l loadProc) next() (loadEvent, error) {
	var ev loadEvent
	line, err := l.nextLine()
	if err != nil {
		return ev, fmt.Errorf("load generator: %w", err)
	}
	return ev, json.Unmarshal(line, &ev)
}

// machine describes where the run happened.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	var mem string
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = fmt.Sprintf(", %d GiB RAM", statusField(b, "MemTotal:")>>20)
	}
	return fmt.Sprintf("%s, %d CPUs%s, Linux, open files %s per process", cpu, numCPU(), mem, openFiles())
}
