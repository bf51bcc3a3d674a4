package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashPoints are every step boundary between a mail arriving and its triage being filed:
// intake (read, stored, acknowledged), the store's delivery transaction, processing (parsed,
// decided) and the store's filing transaction.
var crashPoints = []string{
	"intake.read", "store.before-commit", "store.committed", "intake.stored", "intake.acked",
	"desk.parsed", "desk.decided", "store.record-before-commit", "store.record-committed",
}

const crashMails = 24

// TestDeskCrashSafety kills the desk (SIGKILL, from inside, at a named step boundary chosen
// with a seeded generator) while it imports a Maildir and an mbox file, or while it watches a
// Maildir, then runs it again to completion. After every restart each mail must be stored
// exactly once, none may be waiting or failed, and the watched Maildir's new/ must be empty
// only because every mail in cur/ was stored.
func TestDeskCrashSafety(t *testing.T) {
	dir := t.TempDir()
	bin := buildSortie(t, dir)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SORTIE_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (SORTIE_CRASH_SEED=%d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5071e))
	runs := 3 * len(crashPoints) // every boundary, both ways in, several counts
	for i := range runs {
		point := crashPoints[i%len(crashPoints)]
		watch := (i/len(crashPoints))%2 == 1
		nth := 1 + rng.IntN(crashMails)
		name := fmt.Sprintf("%02d-%s-%d", i, point, nth)
		if watch {
			name += "-watch"
		}
		t.Run(name, func(t *testing.T) {
			crashRun(t, bin, filepath.Join(dir, fmt.Sprint(i)), point, nth, watch)
		})
	}
}

func crashRun(t *testing.T, bin, dir, point string, nth int, watch bool) {
	maildir := filepath.Join(dir, "Maildir")
	mbox := filepath.Join(dir, "complaints.mbox")
	writeCrashMail(t, maildir, mbox)
	config := filepath.Join(dir, "sortie.yaml")
	yaml := fmt.Sprintf("version: 1\ndata_dir: %s\nmetrics: {address: \"127.0.0.1:0\"}\n"+
		"egress:\n  addresses: [{address: 203.0.113.5, name: exit-1}]\n"+
		"desk:\n  maildir: %s\n  maildir_interval: 100ms\n", filepath.Join(dir, "data"), maildir)
	writeTestFile(t, config, yaml)

	args := []string{"desk", "import", "--quiet", "--config", config, maildir, mbox}
	if watch {
		args = []string{"desk", "serve", "--config", config}
	}
	crashed := runUntilCrash(t, bin, args, point, nth, watch, maildir)
	// Again, to completion.
	if watch {
		runWatcherUntilDrained(t, bin, args, maildir, config)
	} else if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("import after the crash: %v\n%s", err, out)
	}
	st := deskStats(t, bin, config)
	want := crashMails
	if !watch {
		want = 2 * crashMails // the Maildir and the mbox hold different mail
	}
	if st.messages != want || st.repeats != 0 || st.waiting != 0 || st.failed != 0 || st.processed != want {
		t.Fatalf("crashed=%v at %s #%d: stored %d (repeats %d), processed %d, waiting %d, failed %d; want %d stored and processed, no repeat",
			crashed, point, nth, st.messages, st.repeats, st.processed, st.waiting, st.failed, want)
	}
	if watch {
		if n := countFiles(t, filepath.Join(maildir, "new")); n != 0 {
			t.Fatalf("%d mails left in new/", n)
		}
		if n := countFiles(t, filepath.Join(maildir, "cur")); n != crashMails {
			t.Fatalf("%d mails in cur/, want %d", n, crashMails)
		}
	}
}

// runUntilCrash runs the desk with the crash point armed and says whether it was killed.
func runUntilCrash(t *testing.T, bin string, args []string, point string, nth int, watch bool, maildir string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SORTIE_CRASHPOINT=%s:%d", point, nth))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if watch {
		// A watcher that never reaches its crash point (fewer hits than nth) is stopped once
		// it has drained new/.
		select {
		case err = <-done:
		case <-waitEmpty(ctx, filepath.Join(maildir, "new"), 200*time.Millisecond):
			cmd.Process.Signal(syscall.SIGTERM)
			err = <-done
		}
	} else {
		err = <-done
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if err != nil && !watch {
		t.Fatalf("desk %s ended with %v, not a crash:\n%s", args[1], err, out.String())
	}
	return false
}

// waitEmpty returns a channel closed once dir has stayed empty for settle.
func waitEmpty(ctx context.Context, dir string, settle time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		var since time.Time
		for ctx.Err() == nil {
			entries, err := os.ReadDir(dir)
			if err == nil && len(entries) == 0 {
				if since.IsZero() {
					since = time.Now()
				} else if time.Since(since) >= settle {
					close(ch)
					return
				}
			} else {
				since = time.Time{}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return ch
}

// runWatcherUntilDrained runs `desk serve` until new/ is empty and nothing waits, then stops it.
func runWatcherUntilDrained(t *testing.T, bin string, args []string, maildir, config string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-waitEmpty(ctx, filepath.Join(maildir, "new"), 300*time.Millisecond)
	for ctx.Err() == nil && deskStats(t, bin, config).waiting > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("desk serve: %v\n%s", err, out.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("the watcher did not drain the Maildir in time:\n%s", out.String())
	}
}

type deskCounts struct{ messages, repeats, waiting, processed, failed int }

func deskStats(t *testing.T, bin, config string) deskCounts {
	t.Helper()
	out, err := exec.Command(bin, "desk", "stats", "--json", "--config", config).Output()
	if err != nil {
		t.Fatalf("desk stats: %v", err)
	}
	var st struct {
		Intake []struct {
			Messages, Repeats int
		}
		Waiting, Processed, Failed int
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("desk stats: %v\n%s", err, out)
	}
	c := deskCounts{waiting: st.Waiting, processed: st.Processed, failed: st.Failed}
	for _, i := range st.Intake {
		c.messages += i.Messages
		c.repeats += i.Repeats
	}
	return c
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// writeCrashMail writes crashMails complaints into a Maildir's new/ and as many others into
// an mbox file.
func writeCrashMail(t *testing.T, maildir, mbox string) {
	t.Helper()
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var box strings.Builder
	for i := range crashMails {
		writeTestFile(t, filepath.Join(maildir, "new", fmt.Sprintf("1763800000.M%dP1.crash", i)), crashMail(i, "maildir"))
		fmt.Fprintf(&box, "From abuse@example.net Sat Nov 21 10:00:00 2026\n%s\n", crashMail(i, "mbox"))
	}
	writeTestFile(t, mbox, box.String())
}

func crashMail(i int, where string) string {
	kinds := []string{
		"Subject: SSH brute force from 203.0.113.5\nFrom: abuse@example.net\n\nWe saw 320 failed password attempts for root on our server 198.51.100.%d port 22\nfrom 203.0.113.5 on 2026-11-20 10:%02d:00 UTC. Please stop it.\n",
		"Subject: Cheap watches %d\nFrom: offers@example.org\n\nBuy cheap watches now, best price, unsubscribe at any time (%02d).\n",
		"Subject: [abuse report] portscan\nFrom: noreply@example.com\nAuto-Submitted: auto-generated\n\nHost 203.0.113.5 scanned 1,024 ports of 198.51.100.%d at 2026-11-20T09:%02d:00Z.\n",
	}
	body := fmt.Sprintf(kinds[i%len(kinds)], i, i)
	return fmt.Sprintf("Message-ID: <%s-%d@example.net>\nDate: Fri, 20 Nov 2026 11:00:00 +0000\nTo: abuse@exit.example.org\n%s", where, i, body)
}
