package main

// The real i2pd (Debian's 2.45) in a network namespace that has only its own loopback, so it
// can reach nothing else. Sortie, the origin and curl run in the same namespace.
//
// What was tried for the production path: an i2pd `type = server` tunnel to Sortie and a
// `type = client` tunnel to that server, both in this isolated i2pd. The client tunnel
// cannot open a stream ("I2PTunnel: Client Tunnel Issue when creating the stream"): with no
// other routers and no floodfill the server's lease set is never found. So the test replays
// byte for byte what such a server tunnel delivers, from a per-peer address 127.a.b.c as i2pd
// uses with enableuniquelocal.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sortie.dev/sortie/internal/netlab"
	"sortie.dev/sortie/internal/testkit"
)

const (
	i2pOrigin     = "127.0.0.5:8080" // the origin, allowed by allow_special
	i2pSortie     = "127.0.0.1:4480" // sortie inside the namespace
	i2pHTTPProxy  = "127.0.0.1:4444" // i2pd's HTTP proxy
	i2pPeerSource = "127.3.4.5"      // a server tunnel's per-peer address
)

type i2pLab struct {
	host    *netlab.Host
	dir     string
	headers chan http.Header // what the origin received
}

func TestI2PDE2E(t *testing.T) {
	netlab.Require(t)
	requireTools(t, "i2pd", "curl")
	l := &i2pLab{dir: t.TempDir(), headers: make(chan http.Header, 16)}
	lab := netlab.New(t, "srti2p")
	l.host = lab.Isolated("i2p")
	l.startOrigin(t)
	bin := buildSortie(t, l.dir)
	config := filepath.Join(l.dir, "sortie.yaml")
	writeTestFile(t, config, fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: %q
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: 5s
egress:
  allow_special: [127.0.0.5/32]
routes:
  i2p: http://%s
`, filepath.Join(l.dir, "data"), i2pSortie, i2pHTTPProxy))
	startSortieCmd(t, l.host.Command(context.Background(), bin, "serve", "--config", config), config)
	l.startI2PD(t)

	t.Run("i2pd HTTP proxy to sortie, plain HTTP", func(t *testing.T) {
		out := l.curl(t, "-x", "http://"+i2pHTTPProxy, "http://"+i2pOrigin+"/hello")
		if !strings.Contains(out, helloMarker) {
			t.Errorf("curl through i2pd and sortie got %q", out)
		}
	})
	t.Run("i2pd HTTP proxy to sortie, CONNECT", func(t *testing.T) {
		out := l.curl(t, "-p", "-x", "http://"+i2pHTTPProxy, "http://"+i2pOrigin+"/hello")
		if !strings.Contains(out, helloMarker) {
			t.Errorf("curl through i2pd (CONNECT) and sortie got %q", out)
		}
	})
	t.Run(".i2p names routed to i2pd", func(t *testing.T) {
		out := l.curl(t, "-x", "http://"+i2pSortie, "http://sortie-test-nowhere.i2p/")
		if !strings.Contains(out, "502") || !strings.Contains(out, "upstream proxy for that network answered") {
			t.Errorf("a .i2p name did not reach i2pd's proxy: %q", out)
		}
	})
	t.Run(".onion without an upstream", func(t *testing.T) {
		out := l.curl(t, "-x", "http://"+i2pSortie, "http://expyuzz4wqqyqhjn.onion/")
		if !strings.Contains(out, "502") || !strings.Contains(out, "no route") {
			t.Errorf(".onion with no route: %q", out)
		}
	})
	t.Run("server tunnel replay: absolute form", l.testReplayForward)
	t.Run("server tunnel replay: CONNECT", l.testReplayConnect)
}

// startOrigin serves /hello on i2pOrigin inside the namespace, recording request headers.
func (l *i2pLab) startOrigin(t *testing.T) {
	ln, err := l.host.Listen("tcp", i2pOrigin)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		select {
		case l.headers <- r.Header.Clone():
		default:
		}
		io.WriteString(w, "<html><body>"+helloMarker+"</body></html>\n")
	})
	e2eServe(t, &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln)
}

// startI2PD runs i2pd in the namespace with its HTTP proxy, sortie as its SOCKS outproxy,
// and every other service off; it waits until the proxy port answers.
func (l *i2pLab) startI2PD(t *testing.T) {
	data := filepath.Join(l.dir, "i2pd")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(i2pHTTPProxy)
	cmd := l.host.Command(context.Background(), "i2pd",
		"--datadir="+data, "--conf=/dev/null", "--tunconf=/dev/null", "--tunnelsdir="+filepath.Join(data, "tunnels.d"),
		"--host=127.0.0.1", "--ssu2.enabled=0", "--reseed.urls=https://127.0.0.1:1/",
		"--http.enabled=0", "--socksproxy.enabled=0", "--sam.enabled=0", "--bob.enabled=0",
		"--i2cp.enabled=0", "--i2pcontrol.enabled=0", "--upnp.enabled=0",
		"--httpproxy.enabled=1", "--httpproxy.address="+host, "--httpproxy.port="+port,
		"--httpproxy.outproxy=socks://"+i2pSortie, "--log=stdout", "--loglevel=warn")
	var out testkit.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start i2pd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := l.host.DialContext(ctx, "tcp", i2pHTTPProxy)
		cancel()
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("i2pd's HTTP proxy did not open within 20s; its output:\n%s", out.String())
}

// curl runs curl inside the namespace and returns its output with the status appended.
func (l *i2pLab) curl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), curlTimeout)
	defer cancel()
	base := []string{"-q", "-sS", "--noproxy", "", "--max-time", "15", "-w", "\n%{http_code}"}
	cmd := l.host.Command(ctx, "curl", append(base, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + l.dir}
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// replay sends raw bytes to sortie from the per-peer address, inside the namespace, and
// returns everything sortie answered.
func (l *i2pLab) replay(t *testing.T, steps ...string) string {
	t.Helper()
	var got bytes.Buffer
	err := l.host.Do(func() error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(i2pPeerSource)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", i2pSortie)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		br := bufio.NewReader(c)
		for i, s := range steps {
			if _, err := io.WriteString(c, s); err != nil {
				return err
			}
			if i < len(steps)-1 { // a CONNECT: wait for its head before the next step
				resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
				if err != nil {
					return err
				}
				fmt.Fprintf(&got, "%d\n", resp.StatusCode)
			}
		}
		_, err = io.Copy(&got, br)
		return err
	})
	if err != nil {
		t.Fatalf("replay: %v (got %q)", err, got.String())
	}
	return got.String()
}

// serverTunnelHeaders are what an i2pd HTTP server tunnel adds: never to be forwarded.
const serverTunnelHeaders = "X-I2P-DestB32: 5zn6irxgbnahxyhdcl5mrdgfc5i4zfzphkxsq2yjj6nwbyfbrxvq.b32.i2p\r\n" +
	"X-I2P-DestHash: 7lvkRuYLQHvg4xr6yIzFF1Hsrz864yFxJPt9jjiJN9M=\r\n" +
	"X-I2P-DestB64: AAAA~example~base64~destination~AAAA\r\n"

func (l *i2pLab) testReplayForward(t *testing.T) {
	out := l.replay(t, "GET http://"+i2pOrigin+"/hello HTTP/1.1\r\nHost: "+i2pOrigin+"\r\n"+
		"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"+
		serverTunnelHeaders+"Accept: */*\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, helloMarker) {
		t.Fatalf("replayed forward request answered %q", e2eTruncate([]byte(out)))
	}
	l.checkNoI2PHeaders(t)
}

func (l *i2pLab) testReplayConnect(t *testing.T) {
	out := l.replay(t, "CONNECT "+i2pOrigin+" HTTP/1.1\r\nHost: "+i2pOrigin+"\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: "+i2pOrigin+"\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "200\n") || !strings.Contains(out, helloMarker) {
		t.Fatalf("replayed CONNECT answered %q", e2eTruncate([]byte(out)))
	}
}

func (l *i2pLab) checkNoI2PHeaders(t *testing.T) {
	t.Helper()
	select {
	case h := <-l.headers:
		for name := range h {
			if strings.HasPrefix(strings.ToLower(name), "x-i2p") {
				b, _ := json.Marshal(h)
				t.Errorf("the origin received %s: %s", name, b)
			}
		}
	case <-time.After(5 * time.Second):
		t.Error("the origin saw no request")
	}
}
