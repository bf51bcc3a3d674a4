package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The measures a load process runs.
const (
	measureStream  = "stream"  // bytes from the origin's source through Conns tunnels
	measureForward = "forward" // keep-alive HTTP forward requests over Conns connections
	measureNewTun  = "newtun"  // a new tunnel for every request
	measureTunReq  = "tunreq"  // keep-alive requests through Conns long-lived tunnels
	measureEcho    = "echo"    // round trips of 64 bytes through one tunnel
	measureIdle    = "idle"    // hold Conns idle tunnels until stdin says stop
)

// loadSpec tells a load process what to do. Proxy empty means direct to the origin.
type loadSpec struct {
	Measure  string        `json:"measure"`
	Proxy    string        `json:"proxy,omitempty"`
	Proto    string        `json:"proto,omitempty"` // connect or socks5, for tunnels
	Target   string        `json:"target"`          // the origin's ip:port
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration"`
	MaxOps   int64         `json:"max_ops"` // bound on requests or round trips over all conns
}

// loadResult is what a load process reports.
type loadResult struct {
	Ops     int64   `json:"ops"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	Errors  int64   `json:"errors"`
	P50us   float64 `json:"p50_us,omitempty"`
	P99us   float64 `json:"p99_us,omitempty"`
	Opened  int     `json:"opened,omitempty"`
	Err     string  `json:"err,omitempty"`
}

// Bounds that hold whatever a spec says.
const (
	ioTimeout   = 10 * time.Second // one handshake, request or round trip
	openTimeout = 90 * time.Second // opening every idle tunnel
	holdTimeout = 10 * time.Minute // holding idle tunnels without being told to stop
)

// runLoad runs one spec and prints its result as JSON on stdout.
func runLoad(specJSON string) error {
	var s loadSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	res, err := measure(context.Background(), s)
	if err != nil {
		res.Err = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func measure(ctx context.Context, s loadSpec) (loadResult, error) {
	if s.Conns < 1 {
		s.Conns = 1
	}
	switch s.Measure {
	case measureStream:
		return runStream(ctx, s)
	case measureForward:
		return runRequests(ctx, s, false)
	case measureTunReq:
		return runRequests(ctx, s, true)
	case measureNewTun:
		return runNewTunnels(ctx, s)
	case measureEcho:
		return runEcho(ctx, s)
	case measureIdle:
		return runIdle(ctx, s, os.Stdin, os.Stdout)
	}
	return loadResult{}, fmt.Errorf("unknown measure %q", s.Measure)
}

// bufConn reads through the reader that parsed the proxy's reply, which may hold the first
// bytes of the tunnel.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dialTunnel opens a tunnel to target through proxy with proto, or a direct connection when
// proxy is empty.
func dialTunnel(ctx context.Context, proxy, proto, target string) (net.Conn, error) {
	if proxy == "" {
		return dialFrom(ctx, target)
	}
	c, err := dialFrom(ctx, proxy)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReaderSize(c, 4096)
	switch proto {
	case "socks5":
		err = socks5Handshake(c, br, target)
	default:
		err = connectHandshake(c, br, target)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return &bufConn{Conn: c, r: br}, nil
}

func connectHandshake(c net.Conn, br *bufio.Reader, target string) error {
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return err
	}
	status, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("connect reply: %w", err)
	}
	if f := strings.Fields(status); len(f) < 2 || f[1] != "200" {
		return fmt.Errorf("connect refused: %q", strings.TrimSpace(status))
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("connect reply: %w", err)
		}
		if line == "\r\n" || line == "\n" {
			return nil
		}
	}
}

func socks5Handshake(c net.Conn, br *bufio.Reader, target string) error {
	ap, err := netip.ParseAddrPort(target)
	if err != nil || !ap.Addr().Is4() {
		return fmt.Errorf("socks5 target must be ipv4:port")
	}
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var m [2]byte
	if _, err := io.ReadFull(br, m[:]); err != nil || m != [2]byte{5, 0} {
		return fmt.Errorf("socks5 method: %v %w", m, err)
	}
	ip := ap.Addr().As4()
	req := []byte{5, 1, 0, 1, ip[0], ip[1], ip[2], ip[3], 0, 0}
	binary.BigEndian.PutUint16(req[8:], ap.Port())
	if _, err := c.Write(req); err != nil {
		return err
	}
	var head [4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return fmt.Errorf("socks5 reply: %w", err)
	}
	if head[1] != 0 {
		return fmt.Errorf("socks5 reply code %#x", head[1])
	}
	n := 4
	switch head[3] {
	case 4:
		n = 16
	case 3:
		l, err := br.ReadByte()
		if err != nil {
			return err
		}
		n = int(l)
	}
	_, err = br.Discard(n + 2)
	return err
}

// dialFrom connects to addr from 127.0.0.1, as one client would. (Random loopback sources
// would spread TIME_WAIT sockets, but make every connection a new client to the proxies'
// per-client state, which is not what is measured here.)
func dialFrom(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: ioTimeout}
	return d.DialContext(ctx, "tcp", addr)
}

// runStream reads from the origin's byte source through s.Conns tunnels for s.Duration.
func runStream(ctx context.Context, s loadSpec) (loadResult, error) {
	conns, err := openMany(ctx, s, s.Conns, s.Conns, false)
	defer closeAll(conns)
	if err != nil {
		return loadResult{}, err
	}
	var total atomic.Int64
	start := time.Now()
	end := start.Add(s.Duration)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(end)
			buf := make([]byte, 256<<10)
			for {
				n, err := c.Read(buf)
				total.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return loadResult{Bytes: total.Load(), Seconds: time.Since(start).Seconds()}, nil
}

// openMany opens n tunnels with par at a time; with check, each tunnel must echo one byte.
// The first failure stops the opening.
func openMany(ctx context.Context, s loadSpec, n, par int, check bool) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(par, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := dialTunnel(ctx, s.Proxy, s.Proto, s.Target)
				if err == nil && check {
					err = echoOne(c)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					if c != nil {
						c.Close()
					}
					next.Store(int64(n)) // stop the other workers too
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	conns = slices.DeleteFunc(conns, func(c net.Conn) bool { return c == nil })
	return conns, firstErr
}

// echoOne checks a tunnel to the echo server with one byte.
func echoOne(c net.Conn) error {
	one := []byte{'x'}
	c.SetDeadline(time.Now().Add(ioTimeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(one); err != nil {
		return err
	}
	_, err := io.ReadFull(c, one)
	return err
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// requestLine is the request for the origin: absolute form through a forward proxy.
func requestLine(s loadSpec) []byte {
	path := "/small"
	if s.Measure == measureForward && s.Proxy != "" {
		path = "http://" + s.Target + path
	}
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + s.Target + "\r\nUser-Agent: sortie-bench\r\n\r\n")
}

// budget hands out at most max operations until a deadline.
type budget struct {
	left atomic.Int64
	end  time.Time
}

func newBudget(maxOps int64, d time.Duration) *budget {
	b := &budget{end: time.Now().Add(d)}
	b.left.Store(maxOps)
	return b
}

func (b *budget) take() bool { return b.left.Add(-1) >= 0 && time.Now().Before(b.end) }

// runRequests sends keep-alive requests over s.Conns connections: to the proxy as forward
// requests, or through tunnels (tunnels true), or straight to the origin.
func runRequests(ctx context.Context, s loadSpec, tunnels bool) (loadResult, error) {
	proxy := s.Proxy
	if !tunnels {
		proxy = "" // forward requests: a plain connection to the proxy (or the origin)
	}
	dialTo := func() (net.Conn, error) {
		if !tunnels && s.Proxy != "" {
			return dialFrom(ctx, s.Proxy)
		}
		return dialTunnel(ctx, proxy, s.Proto, s.Target)
	}
	req := requestLine(s)
	var ops, errs atomic.Int64
	b := newBudget(s.MaxOps, s.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range s.Conns {
		wg.Go(func() {
			var c net.Conn
			var br *bufio.Reader
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for b.take() {
				if c == nil {
					var err error
					if c, err = dialTo(); err != nil {
						errs.Add(1)
						return
					}
					br = bufio.NewReader(c)
				}
				keep, err := roundTrip(c, br, req)
				if err != nil {
					errs.Add(1)
					c.Close()
					c = nil
					continue
				}
				ops.Add(1)
				if !keep {
					c.Close()
					c = nil
				}
			}
		})
	}
	wg.Wait()
	return loadResult{Ops: ops.Load(), Errors: errs.Load(), Seconds: time.Since(start).Seconds()}, nil
}

// roundTrip writes req and reads the whole response; keep says whether the connection stays.
func roundTrip(c net.Conn, br *bufio.Reader, req []byte) (keep bool, err error) {
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	return !resp.Close, nil
}

// runNewTunnels opens a tunnel, sends one request, reads the answer and closes, over and over
// on s.Conns workers.
func runNewTunnels(ctx context.Context, s loadSpec) (loadResult, error) {
	req := requestLine(s)
	var ops, errs atomic.Int64
	b := newBudget(s.MaxOps, s.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range s.Conns {
		wg.Go(func() {
			for b.take() {
				c, err := dialTunnel(ctx, s.Proxy, s.Proto, s.Target)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, err = roundTrip(c, bufio.NewReaderSize(c, 1024), req)
				c.Close()
				if err != nil {
					errs.Add(1)
					continue
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	return loadResult{Ops: ops.Load(), Errors: errs.Load(), Seconds: time.Since(start).Seconds()}, nil
}

// runEcho measures round trips of 64 bytes through one tunnel to the echo server.
func runEcho(ctx context.Context, s loadSpec) (loadResult, error) {
	c, err := dialTunnel(ctx, s.Proxy, s.Proto, s.Target)
	if err != nil {
		return loadResult{}, err
	}
	defer c.Close()
	msg, back := make([]byte, 64), make([]byte, 64)
	var lat []float64
	b := newBudget(s.MaxOps, s.Duration)
	start := time.Now()
	for i := 0; b.take(); i++ {
		t0 := time.Now()
		c.SetDeadline(t0.Add(ioTimeout))
		if _, err := c.Write(msg); err != nil {
			return loadResult{}, err
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return loadResult{}, err
		}
		if i >= 100 { // warm-up
			lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
		}
	}
	slices.Sort(lat)
	return loadResult{Ops: int64(len(lat)), Seconds: time.Since(start).Seconds(),
		P50us: percentile(lat, 50), P99us: percentile(lat, 99)}, nil
}

// runIdle opens s.Conns tunnels to the echo server, checks each with one byte, prints a ready
// line with the count, holds them until a line (or EOF) on in, then closes them.
func runIdle(ctx context.Context, s loadSpec, in io.Reader, out io.Writer) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	start := time.Now()
	conns, err := openMany(ctx, s, s.Conns, 32, true)
	defer closeAll(conns)
	res := loadResult{Opened: len(conns), Seconds: time.Since(start).Seconds()}
	if err != nil {
		res.Err = err.Error()
	}
	line, _ := json.Marshal(res)
	fmt.Fprintf(out, "ready %s\n", line)
	wait := make(chan struct{})
	go func() {
		bufio.NewReader(in).ReadString('\n')
		close(wait)
	}()
	select {
	case <-wait:
	case <-time.After(holdTimeout):
		return res, errors.New("held idle tunnels without a stop")
	}
	return res, nil
}
