package desk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/store"
	"sortie.dev/sortie/internal/testkit"
)

// testDesk opens a desk on SQLite in a temporary directory, with 203.0.113.5 ours.
func testDesk(t testing.TB, edit func(*config.Config)) *Desk {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Egress.Addresses = []config.OwnAddress{{Address: config.AddrPrefix{Prefix: netip.MustParsePrefix("203.0.113.5/32")}, Name: "exit-1"}}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixtures are the parser's sample complaints.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("parse/testdata/mail/*.eml")
	if err != nil || len(files) < 20 {
		t.Fatalf("parser fixtures: %d files, %v", len(files), err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestProcessFilesEveryFixture(t *testing.T) {
	ctx := context.Background()
	d := testDesk(t, nil)
	mails := fixtures(t)
	for name, raw := range mails {
		if _, err := d.Deliver(ctx, store.Delivery{Source: store.SourceImport, Key: name, Raw: raw}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := d.ProcessPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Store().Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != st.Processed || st.Waiting != 0 || st.Failed != 0 || n == 0 {
		t.Fatalf("processed %d; stats %+v", n, st)
	}
	// Every fixture that names 203.0.113.5 lands in a case for our address; spam never
	// does.
	cases, err := d.Store().ListCases(ctx, store.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ours := 0
	for _, c := range cases {
		if c.OurAddress == "203.0.113.5" {
			ours++
			if c.State == store.StateSpam {
				t.Errorf("case %d names our address and was classed spam", c.ID)
			}
		}
	}
	if ours == 0 {
		t.Fatal("no case names our address")
	}
	// The police mail is law enforcement and queued for a human.
	found := false
	for _, c := range cases {
		if c.Category == "law-enforcement" {
			found = true
			if c.State != store.StateNew {
				t.Errorf("law-enforcement case %d is %s, want new", c.ID, c.State)
			}
		}
	}
	if !found {
		t.Error("no law-enforcement case")
	}
}

func TestLearnMovesCases(t *testing.T) {
	ctx := context.Background()
	d := testDesk(t, nil)
	raw := []byte("From: offers@example.org\r\nSubject: cheap watches\r\n\r\nBuy cheap watches today, best prices.\r\n")
	if _, err := d.Deliver(ctx, store.Delivery{Source: store.SourceSMTP, Raw: raw}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	cases, _ := d.Store().ListCases(ctx, store.CaseFilter{})
	if len(cases) != 1 {
		t.Fatalf("cases: %+v", cases)
	}
	id := cases[0].ID
	if n, err := d.Learn(ctx, id, store.ClassSpam); err != nil || n != 1 {
		t.Fatalf("learn spam: %d %v", n, err)
	}
	if n, err := d.Learn(ctx, id, store.ClassSpam); err != nil || n != 0 {
		t.Fatalf("learn spam again: %d %v (want nothing changed)", n, err)
	}
	if c, _ := d.Store().Case(ctx, id); c.State != store.StateSpam {
		t.Fatalf("state after learning spam: %s", c.State)
	}
	if sp, hm, _ := d.Store().BayesTotals(ctx); sp != 1 || hm != 0 {
		t.Fatalf("totals %d/%d", sp, hm)
	}
	if n, err := d.Learn(ctx, id, store.ClassHam); err != nil || n != 1 {
		t.Fatalf("learn ham: %d %v", n, err)
	}
	if c, _ := d.Store().Case(ctx, id); c.State != store.StateNew {
		t.Fatalf("state after learning ham: %s", c.State)
	}
	if sp, hm, _ := d.Store().BayesTotals(ctx); sp != 0 || hm != 1 {
		t.Fatalf("totals after the move %d/%d", sp, hm)
	}
	if _, err := d.Learn(ctx, id+100, store.ClassHam); err == nil {
		t.Fatal("learning a missing case succeeded")
	}
}

func TestBadMailIsSetAside(t *testing.T) {
	ctx := context.Background()
	d := testDesk(t, nil)
	if _, err := d.Deliver(ctx, store.Delivery{Source: store.SourceSMTP, Raw: []byte("\x00\x01 not a mail at all")}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := d.Store().Stats(ctx)
	if st.Waiting != 0 || st.Processed+st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRunWatchesMaildir(t *testing.T) {
	md := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	d := testDesk(t, func(c *config.Config) {
		c.Desk.Maildir = md
		c.Desk.MaildirInterval = config.Duration(50 * time.Millisecond)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := range 3 {
		body := fmt.Sprintf("From: abuse@example.net\nSubject: ssh %d\n\nFailed password for root from 203.0.113.5 port 22 at 2026-11-20 10:0%d:00 UTC\n", i, i)
		tmp := filepath.Join(md, "tmp", fmt.Sprint("m", i))
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(md, "new", fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	for {
		st, err := d.Store().Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Processed == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not processed in time: %+v", st)
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cur, _ := os.ReadDir(filepath.Join(md, "cur"))
	if len(cur) != 3 || !strings.HasSuffix(cur[0].Name(), ":2,S") {
		t.Fatalf("cur/: %v", cur)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRunRefusesABrokenIntake(t *testing.T) {
	d := testDesk(t, func(c *config.Config) { c.Desk.Maildir = "/nonexistent/Maildir" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Run(ctx); err == nil || !strings.Contains(err.Error(), "Maildir") {
		t.Fatalf("Run with a missing Maildir: %v", err)
	}
}

func TestPurgeUsesRetention(t *testing.T) {
	ctx := context.Background()
	d := testDesk(t, nil)
	if _, err := d.Deliver(ctx, store.Delivery{Source: store.SourceSMTP, Raw: []byte("From: a@example.net\r\n\r\nhello 203.0.113.5\r\n")}); err != nil {
		t.Fatal(err)
	}
	if p, err := d.Purge(ctx); err != nil || p.Messages != 0 {
		t.Fatalf("a fresh message was purged: %+v %v", p, err)
	}
	d.now = func() time.Time { return time.Now().Add(401 * 24 * time.Hour) }
	if p, err := d.Purge(ctx); err != nil || p.Messages != 1 {
		t.Fatalf("purge after the retention: %+v %v", p, err)
	}
}

// TestSMTPWaitsForItsAddress: during an upgrade the old process holds the SMTP address until
// its desk stops; the new desk waits for it instead of giving up.
func TestSMTPWaitsForItsAddress(t *testing.T) {
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := holder.Addr().String()
	d := testDesk(t, func(c *config.Config) { c.Desk.SMTP.Address = addr })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(700 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run gave up while the address was held: %v", err)
	default:
	}
	holder.Close()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			greeting := make([]byte, 3)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadFull(c, greeting)
			c.Close()
			if err == nil && string(greeting) == "220" {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the desk never took its SMTP address")
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestWarnsWithoutAddressInventory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []config.OwnAddress
		warn  bool
	}{
		{"empty", nil, true},
		{"listed", []config.OwnAddress{{Address: config.AddrPrefix{Prefix: netip.MustParsePrefix("203.0.113.5/32")}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Egress.Addresses = tc.addrs
			st, err := OpenStore(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var logs testkit.Buffer
			if _, err := New(cfg, st, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "egress.addresses is empty"); got != tc.warn {
				t.Fatalf("warned %v, want %v: %q", got, tc.warn, logs.String())
			}
		})
	}
}
