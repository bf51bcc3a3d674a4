package intake

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"sortie.dev/sortie/internal/netlab"
	"sortie.dev/sortie/internal/testkit"
)

// mailUID is the system user dovecot's mail processes run as (nobody): they may not run
// as root.
const mailUID = 65534

// dovecot is a real Dovecot IMAP server in a network namespace of its own.
type dovecot struct {
	host *netlab.Host
	tls  *tls.Config // trusts the server's certificate
}

// Addresses inside the namespace.
const (
	dovecotPlain = "127.0.0.1:143" // plain text, STARTTLS offered
	dovecotTLS   = "127.0.0.1:993" // implicit TLS
)

// startDovecot starts Debian's dovecot in an isolated namespace with users u1 to u9
// (password "secret-pass", passwd-file), Maildirs under a temporary directory, plain text
// login allowed, and TLS with a certificate made for the test. It needs root and dovecot:
// it skips without them, and fails when CI=true.
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dovecot (Debian dovecot-imapd) needed with CI=true: %v", err)
		}
		t.Skipf("dovecot not installed (Debian dovecot-imapd): %v", err)
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "2.3.") {
		// The configuration below is Dovecot 2.3's (Debian 12); 2.4 changed its syntax.
		if os.Getenv("CI") == "true" {
			t.Fatalf("this test writes a Dovecot 2.3 configuration; dovecot --version says %q (%v)", out, err)
		}
		t.Skipf("this test writes a Dovecot 2.3 configuration; dovecot --version says %q (%v)", out, err)
	}
	host := netlab.New(t, "srtimap").Isolated("imap")
	dir := t.TempDir()
	// The mail processes run as nobody: they must reach the Maildirs.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mail := filepath.Join(dir, "mail")
	if err := os.Mkdir(mail, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mail, mailUID, mailUID); err != nil {
		t.Fatal(err)
	}
	_, pool, certFile, keyFile := testCert(t, dir)
	var users strings.Builder
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&users, "u%d:{PLAIN}secret-pass\n", i)
	}
	passwd := filepath.Join(dir, "passwd")
	// Dovecot's auth process reads it as the dovecot user; the passwords are the test's own.
	if err := os.WriteFile(passwd, []byte(users.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(conf, []byte(dovecotConf(dir, passwd, mail, certFile, keyFile)), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var logs testkit.Buffer
	cmd := host.Command(ctx, bin, "-F", "-c", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start dovecot: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dovecot's log:\n%s", logs.String())
		}
	})
	d := &dovecot{host: host, tls: &tls.Config{RootCAs: pool}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		c, err := host.DialContext(dctx, "tcp", dovecotTLS)
		dcancel()
		if err == nil {
			c.Close()
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not listen within 15s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dovecotConf is a self-contained Dovecot 2.3 configuration: nothing of /etc/dovecot.
func dovecotConf(dir, passwd, mail, cert, key string) string {
	return `base_dir = ` + dir + `/run
state_dir = ` + dir + `/state
instance_name = srtimap
protocols = imap
listen = 127.0.0.1
log_path = /dev/stderr
info_log_path = /dev/stderr
ssl = yes
ssl_cert = <` + cert + `
ssl_key = <` + key + `
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:` + mail + `/%u
first_valid_uid = ` + fmt.Sprint(mailUID) + `
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ` + passwd + `
}
userdb {
  driver = static
  args = uid=` + fmt.Sprint(mailUID) + ` gid=` + fmt.Sprint(mailUID) + ` home=` + mail + `/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 143
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = 993
    ssl = yes
  }
}
`
}

// client returns a logged-in client for user, for putting mail in and looking.
func (d *dovecot) client(t *testing.T, user string) *clientHandle {
	return &clientHandle{c: mailClient(t, d.host.DialContext, dovecotPlain, user, "secret-pass")}
}

// poller returns a poller for user over the given TLS mode.
func (d *dovecot) poller(t *testing.T, sink Sink, user, mode, moveTo string) *IMAPPoller {
	t.Helper()
	addr := dovecotPlain
	if mode == TLSImplicit {
		addr = dovecotTLS
	}
	p, err := NewIMAPPoller(sink, IMAPOptions{
		Address: addr, TLS: mode, Username: user, Password: "secret-pass", MoveTo: moveTo,
		Timeout: 10 * time.Second, Dial: d.host.DialContext, TLSConfig: d.tls, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIMAPDovecot(t *testing.T) {
	d := startDovecot(t)
	ctx := context.Background()
	msgs := []string{complaint(1), complaint(2), complaint(3) + ".a leading dot\r\nFrom a line\r\n"}

	for i, mode := range []string{TLSNone, TLSStartTLS, TLSImplicit} {
		t.Run("seen/"+mode, func(t *testing.T) {
			user := fmt.Sprintf("u%d", i+1)
			mc := d.client(t, user)
			appendMail(t, mc.c, "INBOX", msgs...)
			sink := newSink(t)
			p := d.poller(t, sink, user, mode, "")
			c, err := p.Poll(ctx)
			if err != nil || c != (Counts{New: 3}) {
				t.Fatalf("first poll %+v, %v; want 3 new", c, err)
			}
			mc.wantStored(t, sink, msgs)
			mc.wantFolder(t, "INBOX", msgs, nil)
			if c, err := p.Poll(ctx); err != nil || c != (Counts{}) {
				t.Fatalf("second poll %+v, %v; want nothing", c, err)
			}
			if n := len(stored(t, sink)); n != 3 || repeats(t, sink) != 0 {
				t.Errorf("after the second poll: %d stored, %d repeats", n, repeats(t, sink))
			}
		})
	}

	t.Run("move", func(t *testing.T) {
		mc := d.client(t, "u4")
		if err := mc.c.Create("Processed", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		appendMail(t, mc.c, "INBOX", msgs...)
		sink := newSink(t)
		p := d.poller(t, sink, "u4", TLSStartTLS, "Processed")
		if c, err := p.Poll(ctx); err != nil || c != (Counts{New: 3}) {
			t.Fatalf("poll %+v, %v; want 3 new", c, err)
		}
		mc.wantStored(t, sink, msgs)
		mc.wantFolder(t, "INBOX", nil, nil)
		mc.wantFolder(t, "Processed", nil, msgs)
		if c, err := p.Poll(ctx); err != nil || c != (Counts{}) {
			t.Fatalf("second poll %+v, %v; want nothing", c, err)
		}
	})

	t.Run("failure leaves unseen", func(t *testing.T) {
		mc := d.client(t, "u5")
		appendMail(t, mc.c, "INBOX", msgs...)
		sink := newSink(t)
		p := d.poller(t, sink, "u5", TLSNone, "")
		sink.setFail(errStoreDown)
		if c, err := p.Poll(ctx); err != nil || c != (Counts{Failed: 3}) {
			t.Fatalf("poll with the store down %+v, %v; want 3 failed", c, err)
		}
		mc.wantFolder(t, "INBOX", nil, msgs)
		mc.wantStored(t, sink, nil)
		// The commit happens, the acknowledgement does not (a crash in between).
		sink.setFailAfterCommit(errStoreDown)
		if c, err := p.Poll(ctx); err != nil || c != (Counts{Failed: 3}) {
			t.Fatalf("poll failing after the commit %+v, %v", c, err)
		}
		mc.wantFolder(t, "INBOX", nil, msgs)
		sink.setFail(nil)
		if c, err := p.Poll(ctx); err != nil || c != (Counts{Known: 3}) {
			t.Fatalf("poll after the failure %+v, %v; want 3 known", c, err)
		}
		mc.wantStored(t, sink, msgs)
		mc.wantFolder(t, "INBOX", msgs, nil)
		if n := repeats(t, sink); n != 0 {
			t.Errorf("%d repeats: a copy was stored twice", n)
		}
	})

	t.Run("oversized left unseen", func(t *testing.T) {
		mc := d.client(t, "u6")
		big := complaint(7) + strings.Repeat("evidence\r\n", 500)
		appendMail(t, mc.c, "INBOX", complaint(6), big)
		sink := newSink(t)
		p, err := NewIMAPPoller(sink, IMAPOptions{Address: dovecotPlain, TLS: TLSNone, Username: "u6",
			Password: "secret-pass", MaxMessageBytes: 2000, Dial: d.host.DialContext, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := p.Poll(ctx); err != nil || c != (Counts{New: 1, Oversized: 1}) {
			t.Fatalf("poll %+v, %v; want 1 new, 1 oversized", c, err)
		}
		mc.wantFolder(t, "INBOX", []string{complaint(6)}, []string{big})
	})

	t.Run("wrong password", func(t *testing.T) {
		p, err := NewIMAPPoller(newSink(t), IMAPOptions{Address: dovecotPlain, TLS: TLSNone, Username: "u7",
			Password: "wrong", Dial: d.host.DialContext, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Poll(ctx); err == nil || !strings.Contains(err.Error(), "login") {
			t.Fatalf("Poll with a wrong password: %v", err)
		}
	})
}

// clientHandle is the test's own IMAP client, with checks.
type clientHandle struct{ c *imapclient.Client }

// wantFolder checks the bodies in folder, seen and unseen.
func (h *clientHandle) wantFolder(t *testing.T, folder string, seen, unseen []string) {
	t.Helper()
	gotSeen, gotUnseen := folderState(t, h.c, folder)
	if diff := cmp.Diff(sorted(seen...), gotSeen, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s seen (-want +got):\n%s", folder, diff)
	}
	if diff := cmp.Diff(sorted(unseen...), gotUnseen, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s unseen (-want +got):\n%s", folder, diff)
	}
}

// wantStored checks the bytes in the store.
func (h *clientHandle) wantStored(t *testing.T, sink *testSink, want []string) {
	t.Helper()
	if diff := cmp.Diff(sorted(want...), stored(t, sink), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}
