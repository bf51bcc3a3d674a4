package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec tells a load generator process what to do.
type loadSpec struct {
	Attack   string           `json:"attack"` // idle, malformed, slowloris, scan, brute
	Mode     string           `json:"mode,omitempty"`
	N        int              `json:"n"`        // connections, handshakes or probes
	Inflight int              `json:"inflight"` // most connections being opened at once
	Sources  []netip.Addr     `json:"sources"`
	Proxy    string           `json:"proxy"`
	Targets  []netip.AddrPort `json:"targets"`
	Limit    time.Duration    `json:"limit"` // the attack gives up after this long
}

// loadEvent is one line a load generator writes: "peak" once a holding attack holds what it
// can (it then waits for its input to close), "done" at the end.
type loadEvent struct {
	Event   string         `json:"event"`
	Held    int            `json:"held,omitempty"`
	Counts  map[string]int `json:"counts,omitempty"`
	Seconds float64        `json:"seconds"`
}

// tally counts outcomes by name, safely from many goroutines.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int{}
	}
	t.m[name]++
}

func (t *tally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string]int, len(t.m))
	for k, v := range t.m {
		m[k] = v
	}
	return m
}

// runLoad runs the attack of the JSON spec arg. A holding attack (idle, slowloris) holds its
// connections from the "peak" event until in closes.
func runLoad(arg string, in io.Reader, out io.Writer) error {
	var s loadSpec
	if err := json.Unmarshal([]byte(arg), &s); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Limit)
	defer cancel()
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, in); close(stop) }()
	enc := json.NewEncoder(out)
	start := time.Now()
	var t tally
	var err error
	switch s.Attack {
	case "idle":
		err = idleTunnels(ctx, s, &t, enc, stop)
	case "malformed":
		err = malformed(ctx, s, &t)
	case "slowloris":
		err = slowloris(ctx, s, &t, enc, stop)
	case "scan", "brute":
		err = probes(ctx, s, &t)
	default:
		err = fmt.Errorf("unknown attack %q", s.Attack)
	}
	if err != nil {
		return err
	}
	return enc.Encode(loadEvent{Event: "done", Counts: t.snapshot(), Seconds: time.Since(start).Seconds()})
}

// paced runs do(i) for i in [0, n) with at most inflight calls at once, until ctx ends.
func paced(ctx context.Context, n, inflight int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(inflight, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				do(i)
			}
		})
	}
	wg.Wait()
}

// idleTunnels opens N CONNECT tunnels to the echo ports, checks each echoes a byte, and holds
// them idle until stop.
func idleTunnels(ctx context.Context, s loadSpec, t *tally, enc *json.Encoder, stop <-chan struct{}) error {
	conns := make([]net.Conn, s.N)
	paced(ctx, s.N, s.Inflight, func(i int) {
		c, answer, err := openVia(ctx, modeConnect, s.Proxy, s.Sources[i%len(s.Sources)], s.Targets[i%len(s.Targets)])
		if err != nil || c == nil {
			t.add("refused " + outcome(answer, err))
			return
		}
		if echoOnce(c) != nil {
			t.add("no echo")
			c.Close()
			return
		}
		t.add("held")
		conns[i] = c
	})
	held := 0
	for _, c := range conns {
		if c != nil {
			held++
		}
	}
	enc.Encode(loadEvent{Event: "peak", Held: held})
	wait(ctx, stop)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

// echoOnce writes a byte through a tunnel and reads it back.
func echoOnce(c net.Conn) error {
	c.SetDeadline(time.Now().Add(ioTimeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{'x'}); err != nil {
		return err
	}
	var b [1]byte
	_, err := io.ReadFull(c, b[:])
	return err
}

func wait(ctx context.Context, stop <-chan struct{}) {
	select {
	case <-ctx.Done():
	case <-stop:
	}
}

// outcome names what a client saw: the proxy's answer, or the class of its error.
func outcome(answer string, err error) string {
	if answer != "" {
		return answer
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "closed"
	}
	return "error"
}

// malformedPayloads are handshakes no protocol accepts, in every protocol the port sniffs.
var malformedPayloads = [][]byte{
	[]byte("GARBAGE\r\n\r\n"),
	[]byte("GET http://a b c HTTP/1.1\r\n\r\n"),
	[]byte("CONNECT nohostport HTTP/1.1\r\n\r\n"),
	[]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
	{5, 0},                                   // SOCKS5 offering no method
	{5, 1, 0, 4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, // SOCKS5 request with a wrong version
	{4, 9, 0, 80, 1, 2, 3, 4, 0},             // SOCKS4 with an unknown command
	{5, 1, 0, 5, 1, 0, 9, 0, 0, 0},           // SOCKS5 with an unknown address type
}

// malformed sends N malformed handshakes and reads each answer until the gateway closes.
func malformed(ctx context.Context, s loadSpec, t *tally) error {
	paced(ctx, s.N, s.Inflight, func(i int) {
		c, err := dialFrom(ctx, s.Sources[i%len(s.Sources)], s.Proxy)
		if err != nil {
			t.add("dial " + outcome("", err))
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(ioTimeout))
		c.Write(malformedPayloads[i%len(malformedPayloads)])
		n, err := io.Copy(io.Discard, c)
		switch {
		case err != nil:
			t.add("read " + outcome("", err))
		case n > 0:
			t.add("answered and closed")
		default:
			t.add("closed unanswered")
		}
	})
	return nil
}

// slowlorisStep is how often a slowloris connection sends one more header byte.
const slowlorisStep = time.Second

// slowloris keeps N connections sending a request head one byte a second; a connection the
// gateway closes is opened again after a second, until stop.
func slowloris(ctx context.Context, s loadSpec, t *tally, enc *json.Encoder, stop <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var open atomic.Int64
	var wg sync.WaitGroup
	opened := make(chan struct{}, s.N)
	gate := make(chan struct{}, s.Inflight) // paces the opening of connections
	for i := range s.N {
		wg.Go(func() { slowConn(ctx, s, i, t, &open, opened, gate) })
	}
	for range s.N {
		select {
		case <-opened:
		case <-ctx.Done():
		}
	}
	enc.Encode(loadEvent{Event: "peak", Held: int(open.Load())})
	wait(ctx, stop)
	cancel()
	wg.Wait()
	return nil
}

// slowConn is one slowloris slot: open, trickle, count how it ended, open again.
func slowConn(ctx context.Context, s loadSpec, i int, t *tally, open *atomic.Int64, opened chan<- struct{}, gate chan struct{}) {
	first := true
	head := "GET http://" + s.Targets[0].String() + "/ HTTP/1.1\r\nHost: x\r\nX-Padding: "
	for ctx.Err() == nil {
		gate <- struct{}{}
		c, err := dialFrom(ctx, s.Sources[i%len(s.Sources)], s.Proxy)
		<-gate
		if first {
			opened <- struct{}{}
			first = false
		}
		if err != nil {
			t.add("dial " + outcome("", err))
		} else {
			open.Add(1)
			t.add("opened")
			t.add(trickle(ctx, c, head))
			open.Add(-1)
			c.Close()
		}
		sleep(ctx, slowlorisStep)
	}
}

// trickle sends head a byte every slowlorisStep until the gateway closes or ctx ends.
func trickle(ctx context.Context, c net.Conn, head string) string {
	closed := make(chan string, 1)
	go func() {
		n, _ := io.Copy(io.Discard, c)
		if n > 0 {
			closed <- "closed by sortie with an answer"
		} else {
			closed <- "closed by sortie"
		}
	}()
	defer c.SetReadDeadline(time.Now()) // ends the reader when ctx ended first
	for i := 0; ; i++ {
		c.Write([]byte{head[i%len(head)]})
		select {
		case why := <-closed:
			return why
		case <-ctx.Done():
			return "held to the end"
		case <-time.After(slowlorisStep):
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// probes opens N short connections through the proxy in s.Mode, one after the other: a port
// scan walks the ports of one address; a brute force hits the same login port again and
// again, reading the banner each time.
func probes(ctx context.Context, s loadSpec, t *tally) error {
	src := s.Sources[0]
	for i := 0; i < s.N && ctx.Err() == nil; i++ {
		target := s.Targets[0]
		if s.Attack == "scan" {
			target = netip.AddrPortFrom(target.Addr(), target.Port()+uint16(i))
		}
		c, answer, err := openVia(ctx, s.Mode, s.Proxy, src, target)
		t.add(outcome(answer, err))
		if c != nil {
			c.SetReadDeadline(time.Now().Add(ioTimeout))
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
	}
	return nil
}
