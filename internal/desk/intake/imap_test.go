package intake

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/testkit"
)

// memIMAP serves go-imap's in-memory server on loopback: implicit TLS when mode is
// TLSImplicit, STARTTLS offered otherwise. It returns the address and the client TLS
// settings that trust it.
func memIMAP(t *testing.T, mode string) (string, *tls.Config) {
	t.Helper()
	cert, pool, _, _ := testCert(t, t.TempDir())
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("abuse", "secret-pass")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := user.Create("Stored", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig:    serverTLS,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	var ln net.Listener
	var err error
	if mode == TLSImplicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String(), &tls.Config{RootCAs: pool}
}

// plainDial dials, and for implicit TLS wraps the test's own client in TLS.
func testDial(mode string, cfg *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if mode == TLSImplicit {
			return (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

func TestIMAPPollModes(t *testing.T) {
	for _, mode := range []string{TLSImplicit, TLSStartTLS, TLSNone} {
		t.Run(mode, func(t *testing.T) {
			addr, cfg := memIMAP(t, mode)
			mc := mailClient(t, testDial(mode, cfg), addr, "abuse", "secret-pass")
			big := complaint(9) + strings.Repeat("evidence\r\n", 200)
			appendMail(t, mc, "INBOX", complaint(1), complaint(2), big)
			sink := newSink(t)
			var logs testkit.Buffer
			p, err := NewIMAPPoller(sink, IMAPOptions{
				Address: addr, TLS: mode, Username: "abuse", Password: "secret-pass",
				TLSConfig: cfg, MaxMessageBytes: 1000, Timeout: 5 * time.Second, Log: textLogger(&logs),
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := p.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c != (Counts{New: 2, Oversized: 1}) {
				t.Errorf("first poll %+v; want 2 new, 1 oversized", c)
			}
			if diff := cmp.Diff(sorted(complaint(1), complaint(2)), stored(t, sink)); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			seen, unseen := folderState(t, mc, "INBOX")
			if diff := cmp.Diff(sorted(complaint(1), complaint(2)), seen); diff != "" {
				t.Errorf("seen (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{big}, unseen); diff != "" {
				t.Errorf("unseen (-want +got):\n%s", diff)
			}
			if c, err := p.Poll(context.Background()); err != nil || c != (Counts{Oversized: 1}) {
				t.Errorf("second poll %+v, %v; want only the oversized one again", c, err)
			}
			if n := countLines(logs.String(), "over the size cap"); n != 1 {
				t.Errorf("oversized message logged %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}

func TestIMAPWrongTrustFails(t *testing.T) {
	addr, _ := memIMAP(t, TLSImplicit)
	p, err := NewIMAPPoller(newSink(t), IMAPOptions{Address: addr, Username: "abuse", Password: "secret-pass", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Poll against an untrusted certificate: %v", err)
	}
}

// silentServer accepts connections and never says anything.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func TestIMAPWaitsAreBounded(t *testing.T) {
	addr := silentServer(t)
	p, err := NewIMAPPoller(newSink(t), IMAPOptions{Address: addr, TLS: TLSNone, Username: "abuse", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("Poll of a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Poll of a silent server took %v with a 300ms timeout", d)
	}
	// Cancelling the context ends a wait at once, whatever the timeout.
	p, err = NewIMAPPoller(newSink(t), IMAPOptions{Address: addr, TLS: TLSNone, Username: "abuse", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := p.Poll(ctx); err == nil {
		t.Fatal("Poll succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Poll took %v after its context ended", d)
	}
}

func TestIMAPRun(t *testing.T) {
	addr, cfg := memIMAP(t, TLSNone)
	mc := mailClient(t, testDial(TLSNone, cfg), addr, "abuse", "secret-pass")
	sink := newSink(t)
	p, err := NewIMAPPoller(sink, IMAPOptions{Address: addr, TLS: TLSNone, Username: "abuse", Password: "secret-pass",
		MoveTo: "Stored", Interval: 50 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	appendMail(t, mc, "INBOX", complaint(1))
	deadline := time.Now().Add(10 * time.Second)
	for len(stored(t, sink)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if seen, unseen := folderState(t, mc, "INBOX"); len(seen)+len(unseen) != 0 {
		t.Errorf("INBOX still holds %d seen, %d unseen", len(seen), len(unseen))
	}
	if _, unseen := folderState(t, mc, "Stored"); len(unseen) != 1 || unseen[0] != complaint(1) {
		t.Errorf("Stored holds %q", unseen)
	}
}

func TestNewIMAPPollerRefuses(t *testing.T) {
	sink := newSink(t)
	for name, opts := range map[string]IMAPOptions{
		"no address":     {Username: "abuse"},
		"bad address":    {Address: "imap.example.org", Username: "abuse"},
		"no user":        {Address: "127.0.0.1:993"},
		"bad mode":       {Address: "127.0.0.1:993", Username: "abuse", TLS: "ssl"},
		"move to itself": {Address: "127.0.0.1:993", Username: "abuse", MoveTo: "INBOX"},
		"negative":       {Address: "127.0.0.1:993", Username: "abuse", Interval: -time.Second},
		"cap over store": {Address: "127.0.0.1:993", Username: "abuse", MaxMessageBytes: 1 << 40},
	} {
		if _, err := NewIMAPPoller(sink, opts); err == nil {
			t.Errorf("%s: NewIMAPPoller succeeded", name)
		}
	}
}
