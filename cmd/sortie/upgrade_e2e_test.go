package main

// A binary upgrade without cutting users: SIGUSR2 makes sortie start its successor with the
// listening sockets; the old process drains its tunnels while the new one serves. A tunnel
// held across the upgrade keeps working, and no new connection fails meanwhile.

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
)

func TestUpgradeE2E(t *testing.T) {
	netlab.Require(t)
	dir := t.TempDir()
	lab := netlab.New(t, "srtupg")
	startOrigin(t, lab.Host("origin", originV4, originV6), dir)
	dns := dnstest.Start(t, map[string][]netip.Addr{"origin.sortie.test": {originV4.Addr()}})
	config := filepath.Join(dir, "sortie.yaml")
	writeTestFile(t, config, `version: 1
data_dir: `+strconv.Quote(filepath.Join(dir, "data"))+`
listeners:
  - address: "127.0.0.1:0"
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: 20s
egress:
  allow_special: ["198.51.100.0/24"]
resolver:
  nameservers: ["`+dns.Addr.String()+`"]
`)
	old, proxy := startSortieProcess(t, buildSortie(t, dir), config)
	tunnel := openTunnelTo(t, proxy, "origin.sortie.test:80")
	tunnel.get(t)

	load := startLoad(t, proxy)
	if err := old.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	newPID := waitNewPID(t, old)
	t.Cleanup(func() { stopPID(t, newPID) })
	tunnel.get(t) // still served by the old process, draining

	tunnel.close()
	exited := make(chan error, 1)
	go func() { exited <- waitPIDGone(old.cmd.Process.Pid, 25*time.Second) }()
	if err := <-exited; err != nil {
		t.Errorf("the old process did not end after its last tunnel: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a few more requests, served by the new process alone
	ok, failed := load.stop()
	t.Logf("new connections during the upgrade: %d served, %d failed", ok, failed)
	if failed != 0 || ok == 0 {
		t.Errorf("new connections during the upgrade: %d served, %d failed; want all served; output:\n%s", ok, failed, old)
	}
	if newPID == old.cmd.Process.Pid {
		t.Errorf("the new process has the old pid %d", newPID)
	}
}

// tunnelConn is a CONNECT tunnel carrying keep-alive HTTP requests.
type tunnelConn struct {
	c  net.Conn
	br *bufio.Reader
}

func openTunnelTo(t *testing.T, proxy netip.AddrPort, target string) *tunnelConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	return &tunnelConn{c: c, br: br}
}

// get sends one keep-alive request through the tunnel and checks the page.
func (tc *tunnelConn) get(t *testing.T) {
	t.Helper()
	io.WriteString(tc.c, "GET /hello HTTP/1.1\r\nHost: origin.sortie.test\r\n\r\n")
	resp, err := http.ReadResponse(tc.br, nil)
	if err != nil {
		t.Fatalf("request through the held tunnel: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), helloMarker) {
		t.Fatalf("through the held tunnel: %q", b)
	}
}

func (tc *tunnelConn) close() { tc.c.Close() }

// loadGen sends forward requests on new connections until stopped, bounded in count.
type loadGen struct {
	ok, failed atomic.Int64
	done       chan struct{}
	wg         sync.WaitGroup
}

func startLoad(t *testing.T, proxy netip.AddrPort) *loadGen {
	l := &loadGen{done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for range 2000 {
			select {
			case <-l.done:
				return
			default:
			}
			if err := oneRequest(proxy); err != nil {
				l.failed.Add(1)
			} else {
				l.ok.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *loadGen) stop() (ok, failed int64) {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load()
}

func oneRequest(proxy netip.AddrPort) error {
	c, err := net.DialTimeout("tcp", proxy.String(), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET http://origin.sortie.test/hello HTTP/1.1\r\nHost: origin.sortie.test\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), helloMarker) {
		return io.ErrUnexpectedEOF
	}
	return nil
}

var newPIDLine = regexp.MustCompile(`upgrade: the new process serves.* new_pid=(\d+)`)

// waitNewPID waits for the old process to say which process took over.
func waitNewPID(t *testing.T, old *e2eProcess) int {
	t.Helper()
	for range 300 {
		if m := newPIDLine.FindStringSubmatch(old.String()); m != nil {
			pid, _ := strconv.Atoi(m[1])
			return pid
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no upgrade within 30s:\n%s", old)
	return 0
}

// stopPID sends SIGTERM to pid and waits for it to end, killing it after 10 s.
func stopPID(t *testing.T, pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	if err := waitPIDGone(pid, 10*time.Second); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the new process did not stop on SIGTERM: %v", err)
	}
}

// waitPIDGone waits until pid no longer runs (or is a zombie), for at most d.
func waitPIDGone(pid int, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ctx.Err()
}
