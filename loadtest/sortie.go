package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildSortie builds cmd/sortie into dir.
func buildSortie(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sortie")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "sortie.dev/sortie/cmd/sortie").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// configFor is the configuration of one scenario: the defaults, with the changes listed in
// the scenario's limits.
func configFor(dir string, maxConns int, loginPort uint16) string {
	return fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
metrics:
  address: "127.0.0.1:0"
gateway:
  max_connections: %d
  drain_timeout: 2s
egress:
  allow_special: [%q]
guard:
  brute_force:
    ports: [%d]
`, filepath.Join(dir, "data"), maxConns, originNet, loginPort)
}

// sortieProc is a running sortie.
type sortieProc struct {
	cmd     *exec.Cmd
	proxy   string // the proxy listener, ip:port
	metrics string // the metrics listener, ip:port
	mu      sync.Mutex
	out     bytes.Buffer // stderr, kept for the report on failure and the privacy check
	exited  chan struct{}
	waitErr error
}

// startSortie writes the configuration and starts sortie, waiting for its listeners.
func startSortie(ctx context.Context, bin, dir, config string) (*sortieProc, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "sortie.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		return nil, err
	}
	p := &sortieProc{cmd: exec.Command(bin, "serve", "--config", file), exited: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sortie: %w", err)
	}
	ready := make(chan struct{})
	go p.read(stderr, ready)
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("sortie exited at start: %v\n%s", p.waitErr, p.output())
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	p.stop()
	return nil, fmt.Errorf("sortie did not start listening:\n%s", p.output())
}

// read keeps sortie's stderr and picks the listeners' addresses from it.
func (p *sortieProc) read(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.out.WriteString(line + "\n")
		if a, ok := after(line, "listening on "); ok && p.proxy == "" {
			p.proxy = a
		}
		if a, ok := after(line, "metrics served at "); ok {
			p.metrics = strings.TrimSuffix(a, "/metrics")
		}
		done := p.proxy != "" && p.metrics != "" && ready != nil
		p.mu.Unlock()
		if done {
			close(ready)
			ready = nil
		}
	}
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// after returns the word that follows marker in line.
func after(line, marker string) (string, bool) {
	_, rest, ok := strings.Cut(line, marker)
	if !ok {
		return "", false
	}
	if end := strings.IndexAny(rest, "\" \t"); end >= 0 {
		rest = rest[:end]
	}
	return rest, rest != ""
}

func (p *sortieProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// running reports whether sortie has not exited.
func (p *sortieProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 20 s); it returns the exit error.
func (p *sortieProc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return errors.New("sortie did not stop within 20s of SIGTERM")
	}
	return p.waitErr
}

// usage is what sortie holds at one moment, as the kernel and its metrics tell.
type usage struct {
	FDs        int
	Sockets    int // of FDs, sockets (counted by sample only)
	Pipes      int // of FDs, pipes: the relay keeps a bounded pool of them
	RSSKiB     int // VmRSS
	PeakKiB    int // VmHWM: the most resident memory since start
	Threads    int
	Goroutines int
}

// sample reads sortie's descriptors and memory from /proc, and its goroutines from metrics.
func (p *sortieProc) sample(ctx context.Context) (usage, error) {
	u, err := p.procUsage()
	if err != nil {
		return u, err
	}
	u.Sockets, u.Pipes = p.fdKinds()
	m, err := p.scrape(ctx)
	if err != nil {
		return u, err
	}
	u.Goroutines = int(m["go_goroutines"])
	return u, nil
}

// procUsage reads sortie's descriptors, memory and threads from /proc.
func (p *sortieProc) procUsage() (usage, error) {
	pid := p.cmd.Process.Pid
	var u usage
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, err
	}
	u.FDs = len(fds)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	u.RSSKiB, u.PeakKiB, u.Threads = statusField(status, "VmRSS:"), statusField(status, "VmHWM:"), statusField(status, "Threads:")
	return u, nil
}

// fdKinds counts sortie's sockets and pipes.
func (p *sortieProc) fdKinds() (sockets, pipes int) {
	dir := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
	fds, _ := os.ReadDir(dir)
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, fd.Name()))
		switch {
		case err != nil:
		case strings.HasPrefix(target, "socket:"):
			sockets++
		case strings.HasPrefix(target, "pipe:"):
			pipes++
		}
	}
	return sockets, pipes
}

// statusField returns the number after name in /proc/PID/status.
func statusField(status []byte, name string) int {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return 0
}

// scrape reads the metrics, keyed by name and labels as printed.
func (p *sortieProc) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.metrics+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	c := http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// sum adds the values of every series of name whose labels contain all of match.
func sum(m map[string]float64, name string, match ...string) float64 {
	var total float64
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, s := range match {
			ok = ok && strings.Contains(k, s)
		}
		if ok {
			total += v
		}
	}
	return total
}
