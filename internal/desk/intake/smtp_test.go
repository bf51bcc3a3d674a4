package intake

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// startSMTP serves opts on a loopback port until the test ends.
func startSMTP(t *testing.T, sink Sink, opts SMTPOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Hostname == "" {
		opts.Hostname = "mx.example.org"
	}
	if opts.Log == nil {
		opts.Log = quiet
	}
	s, err := NewSMTPServer(sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// sendMail sends body with go-smtp's client (Dial and Client: SendMail insists on
// STARTTLS) and returns the error of the first command that failed.
func sendMail(t *testing.T, addr string, to []string, body string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = 10*time.Second, 10*time.Second
	if err := c.Hello("reporter.example.net"); err != nil {
		return err
	}
	if err := c.Mail("reports@example.net", nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// smtpCode returns the SMTP reply code in err, or 0.
func smtpCode(err error) int {
	var e *smtp.SMTPError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

var abuse = []string{"abuse@example.org"}

func TestSMTPStoresBytesAsSent(t *testing.T) {
	sink := newSink(t)
	addr := startSMTP(t, sink, SMTPOptions{Recipients: []string{"abuse@example.org"}})
	// A leading dot (dot-stuffed on the wire) and a bare "From " line must arrive unchanged.
	body := complaint(1) + ".leading dot\r\nFrom a quoted line\r\n..two dots\r\n"
	if err := sendMail(t, addr, abuse, body); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != body {
		t.Fatalf("stored %q\nwant %q", got, body)
	}
	if keys := sink.keys(); len(keys) != 1 || keys[0] != "" {
		t.Errorf("keys %q, want one empty key", keys)
	}
}

func TestSMTPAnswers250OnlyAfterCommit(t *testing.T) {
	sink := newSink(t)
	addr := startSMTP(t, sink, SMTPOptions{})
	gate := make(chan struct{})
	sink.setGate(gate)
	answered := make(chan error, 1)
	go func() { answered <- sendMail(t, addr, abuse, complaint(1)) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(sink.keys()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-answered:
		t.Fatalf("the client got an answer (%v) before the commit", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	if err := <-answered; err != nil {
		t.Fatalf("after the commit: %v", err)
	}
	if n := len(stored(t, sink)); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}

func TestSMTPStoreFailureIs451(t *testing.T) {
	sink := newSink(t)
	addr := startSMTP(t, sink, SMTPOptions{})
	sink.setFail(errStoreDown)
	err := sendMail(t, addr, abuse, complaint(1))
	if code := smtpCode(err); code != 451 {
		t.Fatalf("send with the store down: %v; want 451", err)
	}
	if n := len(stored(t, sink)); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	// A store that takes longer than DeliverTimeout is a failure too, never a 250.
	sink.setFail(nil)
	gate := make(chan struct{})
	defer close(gate)
	sink.setGate(gate)
	slow := startSMTP(t, sink, SMTPOptions{DeliverTimeout: 200 * time.Millisecond})
	if code := smtpCode(sendMail(t, slow, abuse, complaint(2))); code != 451 {
		t.Fatalf("send to a stuck store: code %d; want 451", code)
	}
}

func TestSMTPLimits(t *testing.T) {
	sink := newSink(t)
	addr := startSMTP(t, sink, SMTPOptions{
		MaxMessageBytes: 2000,
		MaxRecipients:   2,
		Recipients:      []string{"abuse@example.org", "@abuse.example.net"},
		RatePerMinute:   5,
	})
	// Over the size cap: 552, nothing stored.
	err := sendMail(t, addr, abuse, complaint(1)+strings.Repeat("evidence\r\n", 300))
	if code := smtpCode(err); code != 552 {
		t.Errorf("oversized message: %v; want 552", err)
	}
	// Exactly at the cap: taken. One byte over: 552.
	exact := complaint(2)
	exact += strings.Repeat("x", 2000-len(exact)-2) + "\r\n"
	if err := sendMail(t, addr, abuse, exact); err != nil {
		t.Errorf("message of exactly the cap: %v", err)
	}
	if code := smtpCode(sendMail(t, addr, abuse, "y"+exact)); code != 552 {
		t.Errorf("message one byte over the cap: code %d; want 552", code)
	}
	// Unknown recipient: 550.
	if code := smtpCode(sendMail(t, addr, []string{"postmaster@example.org"}, complaint(3))); code != 550 {
		t.Errorf("unknown recipient: code %d; want 550", code)
	}
	// Too many recipients: go-smtp's 452.
	if code := smtpCode(sendMail(t, addr, []string{"abuse@example.org", "x@abuse.example.net", "y@abuse.example.net"}, complaint(3))); code/100 != 4 {
		t.Errorf("too many recipients: code %d; want 4xx", code)
	}
	// Five MAIL FROM so far used the burst: the next is over the rate.
	err = sendMail(t, addr, []string{"ABUSE@Example.org"}, complaint(4))
	if code := smtpCode(err); code != 450 || !strings.Contains(err.Error(), "Too many messages") {
		t.Errorf("over the rate: %v; want 450 with a clear text", err)
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != exact {
		t.Errorf("stored %d messages, want only the one of exactly the cap", len(got))
	}
}

func TestSMTPWithSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("swaks needed with CI=true: %v", err)
		}
		t.Skipf("swaks not installed: %v", err)
	}
	sink := newSink(t)
	addr := startSMTP(t, sink, SMTPOptions{Recipients: []string{"abuse@example.org"}})
	body := complaint(5) + ".a line with a leading dot\r\nthe last line\r\n"
	// With --no-data-fixup swaks sends the file as it is: so the file is the DATA as it goes
	// on the wire, dot-stuffed and ended by the lone dot, and what is stored must be body.
	wire := strings.ReplaceAll(body, "\r\n.", "\r\n..") + ".\r\n"
	file := filepath.Join(t.TempDir(), "complaint.txt")
	if err := os.WriteFile(file, []byte(wire), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.CommandContext(ctx, swaks, "--server", host, "--port", port,
		"--helo", "reporter.example.net", "--from", "reports@example.net", "--to", "abuse@example.org",
		"--data", "@"+file, "--no-data-fixup", "--timeout", "20").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "<-  250 2.0.0 OK") {
		t.Errorf("swaks saw no 250:\n%s", out)
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != body {
		t.Fatalf("stored %q\nwant %q", got, body)
	}
	// swaks to a recipient that is not taken fails with 550.
	out, err = exec.CommandContext(ctx, swaks, "--server", host, "--port", port,
		"--from", "reports@example.net", "--to", "someone@example.com", "--data", "@"+file, "--no-data-fixup", "--timeout", "20").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "550") {
		t.Errorf("swaks to an unknown recipient: %v\n%s", err, out)
	}
}

func TestNewSMTPServerRefuses(t *testing.T) {
	sink := newSink(t)
	for name, opts := range map[string]SMTPOptions{
		"bad recipient":  {Recipients: []string{"abuse"}},
		"negative":       {MaxRecipients: -1},
		"cap over store": {MaxMessageBytes: 1 << 40},
	} {
		if _, err := NewSMTPServer(sink, opts); err == nil {
			t.Errorf("%s: NewSMTPServer succeeded", name)
		}
	}
}

func TestClientLimits(t *testing.T) {
	l := newClientLimits(2, 3)
	now := time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr("203.0.113.5")
	if !l.allow(a, now) || !l.allow(a, now) || l.allow(a, now) {
		t.Fatal("a burst of 2 a minute allowed a third message at once")
	}
	if !l.allow(a, now.Add(31*time.Second)) {
		t.Error("a token did not come back after half a minute")
	}
	// One IPv6 /64 is one client; the IPv4-mapped spelling is the IPv4 client.
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if !l.allow(v6a, now) || !l.allow(v6b, now) || l.allow(v6b, now) {
		t.Error("two addresses of one /64 did not share a bucket")
	}
	if l.allow(netip.MustParseAddr("::ffff:203.0.113.5"), now.Add(31*time.Second)) {
		t.Error("the IPv4-mapped address had a bucket of its own")
	}
	// The table never holds more than its maximum.
	for i := range 50 {
		l.allow(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), now)
		if n := l.size(); n > 3 {
			t.Fatalf("%d clients remembered, cap 3", n)
		}
	}
}
