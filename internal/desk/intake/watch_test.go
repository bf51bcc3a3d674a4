package intake

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/store"
	"sortie.dev/sortie/internal/testkit"
)

// maildirWith makes a Maildir with the given messages in new/.
func maildirWith(t *testing.T, msgs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range msgs {
		deliverFile(t, dir, name, body)
	}
	return dir
}

// deliverFile delivers a message the Maildir way: written in tmp/, renamed into new/.
func deliverFile(t *testing.T, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		t.Fatal(err)
	}
}

func ls(t *testing.T, dir, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestWatcherMovesOnlyAfterCommit(t *testing.T) {
	sink := newSink(t)
	dir := maildirWith(t, map[string]string{"1767434400.M1P1.mx.example.org": complaint(1)})
	w, err := NewWatcher(dir, sink, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	gate := make(chan struct{})
	sink.setGate(gate)
	done := make(chan Counts, 1)
	go func() {
		c, _ := w.Poll(context.Background())
		done <- c
	}()
	// While the commit has not happened the message is still in new/.
	deadline := time.Now().Add(5 * time.Second)
	for len(sink.keys()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := ls(t, dir, "new"); len(got) != 1 || len(ls(t, dir, "cur")) != 0 {
		t.Fatalf("before the commit: new/ %v, cur/ %v", got, ls(t, dir, "cur"))
	}
	close(gate)
	c := <-done
	if c.New != 1 {
		t.Fatalf("Poll counts %+v, want 1 new", c)
	}
	if diff := cmp.Diff([]string{"1767434400.M1P1.mx.example.org:2,S"}, ls(t, dir, "cur")); diff != "" || len(ls(t, dir, "new")) != 0 {
		t.Errorf("after the commit: new/ %v, cur/ (-want +got):\n%s", ls(t, dir, "new"), diff)
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != complaint(1) {
		t.Errorf("stored %q", got)
	}
	if diff := cmp.Diff([]string{"1767434400.M1P1.mx.example.org"}, sink.keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestWatcherFailedDeliveryStaysAndIsLoggedOnce(t *testing.T) {
	sink := newSink(t)
	dir := maildirWith(t, map[string]string{
		"1767434400.M1P1.mx.example.org": complaint(1),
		"1767434401.M2P1.mx.example.org": complaint(2),
	})
	var logs testkit.Buffer
	w, err := NewWatcher(dir, sink, WatchOptions{Log: textLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sink.setFail(errStoreDown)
	for range 3 {
		c, err := w.Poll(context.Background())
		if err != nil || c.Failed != 2 || c.New != 0 {
			t.Fatalf("Poll with the store down = %+v, %v", c, err)
		}
	}
	if got := ls(t, dir, "new"); len(got) != 2 {
		t.Fatalf("failed deliveries left new/: %v", got)
	}
	if n := strings.Count(logs.String(), "delivery failed"); n != 2 {
		t.Errorf("%d log lines for 2 messages failing 3 times, want 2:\n%s", n, logs.String())
	}
	sink.setFail(nil)
	c, err := w.Poll(context.Background())
	if err != nil || c.New != 2 {
		t.Fatalf("Poll with the store back = %+v, %v", c, err)
	}
	if len(ls(t, dir, "new")) != 0 || len(ls(t, dir, "cur")) != 2 {
		t.Errorf("new/ %v, cur/ %v", ls(t, dir, "new"), ls(t, dir, "cur"))
	}
	if c, _ := w.Poll(context.Background()); c != (Counts{}) {
		t.Errorf("a poll of an empty new/ did %+v", c)
	}
}

func TestWatcherAcknowledgesAKnownCopy(t *testing.T) {
	// A crash between the commit and the move leaves a stored message in new/.
	sink := newSink(t)
	name := "1767434400.M1P1.mx.example.org"
	dir := maildirWith(t, map[string]string{name: complaint(1)})
	if _, err := sink.st.Deliver(context.Background(), store.Delivery{Source: store.SourceMaildir, Key: name, Raw: []byte(complaint(1))}); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(dir, sink, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c, err := w.Poll(context.Background())
	if err != nil || c.Known != 1 || c.New != 0 {
		t.Fatalf("Poll = %+v, %v; want 1 known", c, err)
	}
	if len(ls(t, dir, "new")) != 0 || repeats(t, sink) != 0 || len(stored(t, sink)) != 1 {
		t.Errorf("new/ %v, repeats %d, stored %d", ls(t, dir, "new"), repeats(t, sink), len(stored(t, sink)))
	}
}

func TestWatcherOversizedStays(t *testing.T) {
	sink := newSink(t)
	dir := maildirWith(t, map[string]string{
		"1767434400.M1P1.mx.example.org": complaint(1) + strings.Repeat("x", 2000),
		"1767434401.M2P1.mx.example.org": complaint(2),
	})
	var logs testkit.Buffer
	w, err := NewWatcher(dir, sink, WatchOptions{MaxMessageBytes: 1000, Log: textLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 2 {
		if _, err := w.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"1767434400.M1P1.mx.example.org"}, ls(t, dir, "new")); diff != "" {
		t.Errorf("new/ (-want +got):\n%s", diff)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("oversized message logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestWatcherBatchTakesOldestFirst(t *testing.T) {
	sink := newSink(t)
	dir := maildirWith(t, map[string]string{
		"1767434403.M1P1.mx.example.org": complaint(3),
		"1767434401.M1P1.mx.example.org": complaint(1),
		"1767434402.M1P1.mx.example.org": complaint(2),
	})
	w, err := NewWatcher(dir, sink, WatchOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if c, err := w.Poll(context.Background()); err != nil || c.New != 2 {
		t.Fatalf("Poll = %+v, %v", c, err)
	}
	if diff := cmp.Diff([]string{"1767434403.M1P1.mx.example.org"}, ls(t, dir, "new")); diff != "" {
		t.Errorf("new/ after one batch (-want +got):\n%s", diff)
	}
}

func TestWatchMaildirRun(t *testing.T) {
	sink := newSink(t)
	dir := maildirWith(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- WatchMaildir(ctx, dir, sink, WatchOptions{Interval: 20 * time.Millisecond}) }()
	deliverFile(t, dir, "1767434400.M1P1.mx.example.org", complaint(1))
	deadline := time.Now().Add(10 * time.Second)
	for len(ls(t, dir, "cur")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != complaint(1) {
		t.Errorf("stored %q", got)
	}
	if err := WatchMaildir(context.Background(), t.TempDir(), sink, WatchOptions{}); err == nil {
		t.Error("watching a directory that is no Maildir succeeded")
	}
}
