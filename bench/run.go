package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the orchestrator's flags.
type options struct {
	Quick   bool
	Runs    int
	Out     string
	Src     string
	Sortie  string
	Only    string
	Figures string
	Profile string
}

// phases are the parts of a contender's run that -figures selects.
type phases struct {
	loads bool // throughput, request rates, new tunnels, echo
	idle  bool // idle tunnels, and the bulk tunnel beside the most of them
}

// parsePhases reads -figures: a comma-separated list of loads, idle and all.
func parsePhases(s string) (phases, error) {
	var p phases
	for name := range strings.SplitSeq(s, ",") {
		switch strings.TrimSpace(name) {
		case "all":
			p.loads, p.idle = true, true
		case "loads":
			p.loads = true
		case "idle":
			p.idle = true
		default:
			return phases{}, fmt.Errorf("-figures: unknown phase %q (want loads, idle or all)", name)
		}
	}
	return p, nil
}

// originIP is where the origin listens: not the proxies' own address, allowed in Sortie's
// config.
const originIP = "127.0.0.2"

// nobody is the unprivileged user the proxies run as when the bench runs as root.
const nobody = 65534

// plan holds the sizes of one benchmark.
type plan struct {
	Runs      int
	Stream    time.Duration // each throughput load
	Rate      time.Duration // each request-rate and echo load
	RateConns int           // connections of the request-rate loads
	MaxOps    int64         // bound on the requests of one rate load
	// TunnelOps bounds one new-tunnel load: each connection leaves a TIME_WAIT socket for
	// 60 s, reusable only after a second, and one destination port has 28,000 ephemeral
	// ports; past about 20,000 the kernel's port search, not the proxy, sets the rate.
	TunnelOps  int64
	EchoOps    int64
	IdleCounts []int // idle tunnel counts; the last one also gets the bulk tunnel
}

func planFor(o options) plan {
	if o.Quick {
		return plan{Runs: 1, Stream: 500 * time.Millisecond, Rate: 500 * time.Millisecond, RateConns: 4,
			MaxOps: 20000, TunnelOps: 5000, EchoOps: 2000, IdleCounts: []int{1000}}
	}
	return plan{Runs: max(o.Runs, 1), Stream: 3 * time.Second, Rate: 2 * time.Second, RateConns: 8,
		MaxOps: 400000, TunnelOps: 10000, EchoOps: 40000, IdleCounts: []int{1000, 9000}}
}

// bench is one benchmark in progress.
type bench struct {
	plan    plan
	phases  phases
	dir     string
	self    string // the bench binary, copied where the unprivileged user can run it
	origin  originAddrs
	pin     bool // taskset found
	asUser  bool // running as root: proxies drop to nobody
	perf    string
	results map[string]map[string][]float64 // contender → figure → one value per run
	notes   []string
}

func orchestrate(o options) error {
	p := planFor(o)
	ph, err := parsePhases(o.Figures)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sortie-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	b := &bench{plan: p, phases: ph, dir: dir, results: map[string]map[string][]float64{}, perf: o.Profile}
	_, err = exec.LookPath("taskset")
	b.pin = err == nil
	if !ph.loads || !ph.idle {
		b.note("partial run: -figures " + o.Figures)
	}
	b.asUser = os.Geteuid() == 0
	if b.self, err = copySelf(dir); err != nil {
		return err
	}
	sortieBin := o.Sortie
	if sortieBin == "" {
		if sortieBin, err = buildSortie(o.Src, dir); err != nil {
			return err
		}
	}
	found, missing := lookPeers(peerSpecs(sortieBin, b.self))
	found = selectContenders(found, o.Only)
	for r := range p.Runs {
		for _, c := range rotate(found, r) {
			fmt.Fprintf(os.Stderr, "run %d/%d: %s\n", r+1, p.Runs, c.Name)
			if err := b.runContender(c); err != nil {
				b.note(fmt.Sprintf("run %d, %s: %v", r+1, c.Name, err))
				fmt.Fprintf(os.Stderr, "  %s: %v\n", c.Name, err)
			}
			if c.bindsOut {
				waitTimeWait(70 * time.Second)
			}
		}
	}
	rep := newReport(b, found, missing)
	fmt.Print(rep.table())
	if o.Out == "" {
		return nil
	}
	return os.WriteFile(o.Out, []byte(rep.markdown()), 0o644)
}

func (b *bench) note(s string) { b.notes = append(b.notes, s) }

// waitTimeWait waits, at most d, until fewer than 1,000 TCP sockets are in TIME_WAIT.
func waitTimeWait(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		b, err := os.ReadFile("/proc/net/sockstat")
		if err != nil || timeWaitCount(b) < 1000 {
			return
		}
		time.Sleep(time.Second)
	}
}

// timeWaitCount reads the tw field of /proc/net/sockstat's TCP line (-1 when absent).
func timeWaitCount(sockstat []byte) int {
	for line := range strings.Lines(string(sockstat)) {
		rest, ok := strings.CutPrefix(line, "TCP:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "tw" {
				n, err := strconv.Atoi(f[i+1])
				if err != nil {
					return -1
				}
				return n
			}
		}
	}
	return -1
}

// selectContenders keeps direct and the contenders named in only (all when empty).
func selectContenders(all []*contender, only string) []*contender {
	if only == "" {
		return all
	}
	want := strings.Split(only, ",")
	return slices.DeleteFunc(all, func(c *contender) bool {
		return c.Name != "direct" && !slices.Contains(want, c.Name)
	})
}

// rotate starts the order at a different contender on each run.
func rotate[T any](xs []T, r int) []T {
	if len(xs) == 0 {
		return nil
	}
	k := r % len(xs)
	return append(slices.Clone(xs[k:]), xs[:k]...)
}

// copySelf copies the running binary into dir so that the unprivileged user can run it.
func copySelf(dir string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	src, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst := filepath.Join(dir, "bench")
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return "", err
	}
	return dst, f.Close()
}

func buildSortie(src, dir string) (string, error) {
	out := filepath.Join(dir, "sortie")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/sortie")
	cmd.Dir = src
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build sortie: %w", err)
	}
	return out, nil
}

// command returns a command pinned to core (when taskset exists), as nobody when asked.
func (b *bench) command(ctx context.Context, core int, unprivileged bool, argv ...string) *exec.Cmd {
	var pre []string
	if b.pin {
		pre = append(pre, "taskset", "-c", fmt.Sprint(core))
	}
	if unprivileged && b.asUser {
		pre = append(pre, "setpriv", fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody),
			"--clear-groups")
	}
	argv = append(pre, argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = b.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (b *bench) startOrigin() (stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := b.command(ctx, 1, false, b.self, "-role", "origin", "-addr", originIP)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start origin: %w", err)
	}
	stop = func() { stdin.Close(); cancel(); cmd.Wait() }
	line, err := readLine(stdout, 10*time.Second)
	if err == nil {
		err = json.Unmarshal([]byte(line), &b.origin)
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("origin: %w", err)
	}
	return stop, nil
}

// readLine reads one line from r within d.
func readLine(r io.Reader, d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case x := <-ch:
		return x.s, x.err
	case <-time.After(d):
		return "", errors.New("no answer in time")
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// proxyProc is a running contender.
type proxyProc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    *tail
	addr   string
}

func (b *bench) startProxy(c *contender) (*proxyProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.dir, c.Name+"-")
	if err != nil {
		return nil, err
	}
	if b.asUser {
		os.Chown(dir, nobody, nobody)
	}
	argv, err := c.argv(dir, addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &proxyProc{cmd: b.command(ctx, 0, !c.privileged, argv...), cancel: cancel, out: &tail{}, addr: addr}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start: %w", err)
	}
	if err := waitListening(addr, 15*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("not listening: %w; output: %q", err, p.out.String())
	}
	return p, nil
}

func waitListening(addr string, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(end) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proxyProc) pid() int { return p.cmd.Process.Pid }

func (p *proxyProc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		p.cancel()
		<-done
	}
	p.cancel()
}

// record stores one run's value of a figure.
func (b *bench) record(contender, figure string, v float64) {
	m := b.results[contender]
	if m == nil {
		m = map[string][]float64{}
		b.results[contender] = m
	}
	m[figure] = append(m[figure], v)
}

// runContender measures everything c supports on a fresh process (none for direct), then the
// idle tunnels on a second fresh process, so that neither phase inherits the other's state
// (a Go proxy's spent pipe quota, a grown heap). -figures may leave either phase out.
//
// Each contender gets a fresh origin on new ports: the TIME_WAIT sockets the previous
// contender's short connections left toward the old ports would slow its connects.
func (b *bench) runContender(c *contender) error {
	stopOrigin, err := b.startOrigin()
	if err != nil {
		return err
	}
	defer stopOrigin()
	if b.phases.loads {
		if err := b.runLoads(c); err != nil {
			return err
		}
	}
	if c.argv == nil || !b.phases.idle {
		return nil
	}
	p, err := b.startProxy(c)
	if err != nil {
		return err
	}
	defer p.stop()
	time.Sleep(300 * time.Millisecond) // let it settle before the baseline
	return b.measureIdle(c, p)
}

func (b *bench) runLoads(c *contender) error {
	var p *proxyProc
	if c.argv != nil {
		var err error
		if p, err = b.startProxy(c); err != nil {
			return err
		}
		defer p.stop()
	}
	for _, m := range b.measures(c) {
		if err := b.measureOne(c, p, m); err != nil {
			b.note(fmt.Sprintf("%s %s: %v", c.Name, m.figure, err))
			fmt.Fprintf(os.Stderr, "  %s %s: %v\n", c.Name, m.figure, err)
		}
	}
	return nil
}

// measurement is one load and the figure it produces.
type measurement struct {
	figure string
	spec   loadSpec
}

func (b *bench) measures(c *contender) []measurement {
	tp := c.tunnelProto()
	o := b.origin
	p := b.plan
	var ms []measurement
	add := func(ok bool, fig string, s loadSpec) {
		if ok {
			ms = append(ms, measurement{figure: fig, spec: s})
		}
	}
	add(true, figStream1, loadSpec{Measure: measureStream, Proto: tp, Target: o.Source, Conns: 1, Duration: p.Stream})
	add(true, figStream8, loadSpec{Measure: measureStream, Proto: tp, Target: o.Source, Conns: 8, Duration: p.Stream})
	add(c.Forward, figForward, loadSpec{Measure: measureForward, Target: o.HTTP, Conns: p.RateConns, Duration: p.Rate, MaxOps: p.MaxOps})
	add(c.Connect, figNewConnect, loadSpec{Measure: measureNewTun, Proto: "connect", Target: o.HTTP, Conns: p.RateConns, Duration: p.Rate, MaxOps: p.TunnelOps})
	add(c.SOCKS5, figNewSOCKS5, loadSpec{Measure: measureNewTun, Proto: "socks5", Target: o.HTTP2, Conns: p.RateConns, Duration: p.Rate, MaxOps: p.TunnelOps})
	add(true, figTunReq, loadSpec{Measure: measureTunReq, Proto: tp, Target: o.HTTP, Conns: p.RateConns, Duration: p.Rate, MaxOps: p.MaxOps})
	add(true, figEchoP50, loadSpec{Measure: measureEcho, Proto: tp, Target: o.Echo, Conns: 1, Duration: p.Rate, MaxOps: p.EchoOps})
	return ms
}

func (b *bench) measureOne(c *contender, p *proxyProc, m measurement) error {
	if p != nil {
		m.spec.Proxy = p.addr
	}
	var before procSample
	if p != nil {
		var err error
		if before, err = sampleTree(p.pid()); err != nil {
			return err
		}
	}
	stopPerf := b.startPerf(c, p, m.figure)
	res, err := b.load(m.spec)
	stopPerf()
	if err != nil {
		return err
	}
	if res.Err != "" {
		return errors.New(res.Err)
	}
	var after procSample
	if p != nil {
		if after, err = sampleTree(p.pid()); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		b.note(fmt.Sprintf("%s %s: %d failed operations", c.Name, m.figure, res.Errors))
	}
	switch m.spec.Measure {
	case measureStream:
		b.record(c.Name, m.figure, float64(res.Bytes)/res.Seconds/1e6)
		cpu := math.NaN()
		if p != nil && res.Bytes > 0 {
			cpu = (after.CPU - before.CPU) / (float64(res.Bytes) / 1e9)
			b.record(c.Name, m.figure+cpuSuffix, cpu)
			b.record(c.Name, m.figure+utilSuffix, (after.CPU-before.CPU)/res.Seconds)
		}
	case measureEcho:
		b.record(c.Name, figEchoP50, res.P50us)
		b.record(c.Name, figEchoP99, res.P99us)
	default:
		b.record(c.Name, m.figure, float64(res.Ops)/res.Seconds)
	}
	return nil
}

// load runs one load process and returns its result.
func (b *bench) load(s loadSpec) (loadResult, error) {
	spec, _ := json.Marshal(s)
	ctx, cancel := context.WithTimeout(context.Background(), s.Duration+2*time.Minute)
	defer cancel()
	cmd := b.command(ctx, 1, false, b.self, "-role", "load", "-spec", string(spec))
	errOut := &tail{}
	cmd.Stderr = errOut
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("load: %w: %s", err, errOut.String())
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return loadResult{}, fmt.Errorf("load output: %w", err)
	}
	return res, nil
}

// idleLoad is a load process holding idle tunnels.
type idleLoad struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	res   loadResult
}

func (b *bench) holdIdle(s loadSpec) (*idleLoad, error) {
	spec, _ := json.Marshal(s)
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout+holdTimeout)
	cmd := b.command(ctx, 1, false, b.self, "-role", "load", "-spec", string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	l := &idleLoad{cmd: cmd, stdin: stdin}
	go func() { cmd.Wait(); cancel() }()
	line, err := readLine(stdout, openTimeout+10*time.Second)
	rest, ok := strings.CutPrefix(line, "ready ")
	if err != nil || !ok {
		l.release()
		return nil, fmt.Errorf("idle load: %q %v", line, err)
	}
	if err := json.Unmarshal([]byte(rest), &l.res); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

func (l *idleLoad) release() {
	l.stdin.Write([]byte("\n"))
	l.stdin.Close()
}

// measureIdle holds idle tunnels in steps (1,000, then up to 9,000 with a second load process)
// and samples the proxy's memory and descriptors at each step against its fresh baseline. At
// the last step it also measures a bulk tunnel's throughput.
func (b *bench) measureIdle(c *contender, p *proxyProc) error {
	base, err := sampleTree(p.pid())
	if err != nil {
		return err
	}
	var held []*idleLoad
	defer func() {
		for _, l := range held {
			l.release()
		}
		time.Sleep(500 * time.Millisecond)
	}()
	total := 0
	for i, n := range b.plan.IdleCounts {
		l, err := b.holdIdle(loadSpec{Measure: measureIdle, Proxy: p.addr, Proto: c.tunnelProto(),
			Target: b.origin.Echo, Conns: n - total})
		if err != nil {
			return err
		}
		held = append(held, l)
		total += l.res.Opened
		if l.res.Err != "" || l.res.Errors > 0 {
			b.note(fmt.Sprintf("%s idle %d: opened %d, %d failed checks, %s", c.Name, n, l.res.Opened, l.res.Errors, l.res.Err))
		}
		if total < n {
			return fmt.Errorf("held %d idle tunnels of %d: %s", total, n, l.res.Err)
		}
		time.Sleep(time.Second)
		s, err := sampleTree(p.pid())
		if err != nil {
			return err
		}
		fig := fmt.Sprintf("idle%d", n)
		b.record(c.Name, fig+"_kib", float64(s.RSSKiB-base.RSSKiB)/float64(total))
		b.record(c.Name, fig+"_fds", float64(s.FDs-base.FDs)/float64(total))
		if i == len(b.plan.IdleCounts)-1 && len(b.plan.IdleCounts) > 1 {
			res, err := b.load(loadSpec{Measure: measureStream, Proxy: p.addr, Proto: c.tunnelProto(),
				Target: b.origin.Source, Conns: 1, Duration: b.plan.Stream})
			if err == nil && res.Err == "" {
				b.record(c.Name, figBulkIdle, float64(res.Bytes)/res.Seconds/1e6)
			} else {
				b.note(fmt.Sprintf("%s bulk beside idle: %v %s", c.Name, err, res.Err))
			}
		}
	}
	return nil
}

// startPerf records a CPU profile (perf record -g) of the proxy during one load when asked:
// -perf NAME profiles NAME's one-stream load, -perf NAME:FIGURE the load of that figure.
func (b *bench) startPerf(c *contender, p *proxyProc, figure string) func() {
	name, fig, _ := strings.Cut(b.perf, ":")
	if fig == "" {
		fig = figStream1
	}
	if name != c.Name || p == nil || figure != fig {
		return func() {}
	}
	out := filepath.Join(os.TempDir(), "sortie-bench-"+c.Name+".perf.data")
	cmd := exec.Command("perf", "record", "-g", "-F", "999", "-o", out, "-p", fmt.Sprint(p.pid()))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.note("perf: " + err.Error())
		return func() {}
	}
	return func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		fmt.Fprintf(os.Stderr, "perf profile in %s\n", out)
	}
}
