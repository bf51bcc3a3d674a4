package intake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// progressLog records Progress calls and checks they only move forward.
type progressLog struct {
	t     *testing.T
	calls [][2]int
}

func (p *progressLog) record(done, total int) {
	if n := len(p.calls); n > 0 && done < p.calls[n-1][0] {
		p.t.Errorf("progress went back from %d to %d", p.calls[n-1][0], done)
	}
	if done > total {
		p.t.Errorf("progress %d of %d", done, total)
	}
	p.calls = append(p.calls, [2]int{done, total})
}

func (p *progressLog) last() [2]int {
	if len(p.calls) == 0 {
		return [2]int{-1, -1}
	}
	return p.calls[len(p.calls)-1]
}

// mboxOf writes messages (LF line ends in the file) as an mboxrd.
func mboxOf(msgs ...string) string {
	var b strings.Builder
	for i, m := range msgs {
		b.WriteString("From reports@example.net Sat Jan  3 10:00:0" + string(rune('0'+i%10)) + " 2026\n")
		for line := range strings.Lines(m) {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				b.WriteByte('>')
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestImportMbox(t *testing.T) {
	sink := newSink(t)
	big := lf(complaint(3)) + strings.Repeat("evidence line\n", 200)
	body := lf(complaint(1)) + "From the logs:\n\nFrom here on, quoted.\n"
	path := filepath.Join(t.TempDir(), "abuse.mbox")
	if err := os.WriteFile(path, []byte(mboxOf(body, lf(complaint(2)), big, body, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	prog := &progressLog{t: t}
	sum, err := Import(context.Background(), path, sink, ImportOptions{MaxMessageBytes: 1024, Progress: prog.record})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 2 || sum.Repeats != 1 || sum.Known != 0 || len(sum.Failed) != 2 {
		t.Fatalf("summary %+v; want 2 imported, 1 repeat, 2 failed", sum)
	}
	if !strings.HasSuffix(sum.Failed[0].Where, "abuse.mbox#3") || !strings.Contains(sum.Failed[0].Reason, "size cap") {
		t.Errorf("failure %+v; want message 3 over the size cap", sum.Failed[0])
	}
	if !strings.HasSuffix(sum.Failed[1].Where, "abuse.mbox#5") || !strings.Contains(sum.Failed[1].Reason, "empty") {
		t.Errorf("failure %+v; want message 5 empty", sum.Failed[1])
	}
	if prog.calls[0] != [2]int{0, 5} || prog.last() != [2]int{5, 5} {
		t.Errorf("progress %v; want from 0/5 to 5/5", prog.calls)
	}
	if diff := cmp.Diff(sorted(body, lf(complaint(2))), stored(t, sink)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	abs, _ := filepath.Abs(path)
	if diff := cmp.Diff([]string{abs + "#1", abs + "#2", abs + "#4"}, sink.keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	st, err := sink.st.Stats(context.Background())
	if err != nil || len(st.Intake) != 1 || st.Intake[0].Month != "2026-01" {
		t.Errorf("the separator's date is not the received month: %+v, %v", st.Intake, err)
	}

	again, err := Import(context.Background(), path, sink, ImportOptions{MaxMessageBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if again.Imported != 0 || again.Repeats != 0 || again.Known != 3 {
		t.Errorf("second import %+v; want 3 known, nothing else", again)
	}
	if n := repeats(t, sink); n != 1 {
		t.Errorf("repeats %d after importing twice, want 1", n)
	}
}

func TestImportMaildirReadsOnly(t *testing.T) {
	sink := newSink(t)
	dir := t.TempDir()
	files := map[string]string{
		"new/1767434400.M1P1.mx.example.org":      complaint(1),
		"cur/1767434300.M2P1.mx.example.org:2,S":  complaint(2),
		"cur/1767434200.M3P1.mx.example.org:2,RS": complaint(3),
		"cur/.uidlist":                       "not mail",
		"tmp/1767434500.M4P1.mx.example.org": complaint(4),
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	prog := &progressLog{t: t}
	sum, err := Import(context.Background(), dir, sink, ImportOptions{Progress: prog.record})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 3 || len(sum.Failed) != 0 || prog.last() != [2]int{3, 3} {
		t.Fatalf("summary %+v, progress %v; want 3 imported of 3", sum, prog.calls)
	}
	if diff := cmp.Diff(sorted(complaint(1), complaint(2), complaint(3)), stored(t, sink)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	abs, _ := filepath.Abs(dir)
	want := sorted(abs+"/1767434400.M1P1.mx.example.org", abs+"/1767434300.M2P1.mx.example.org", abs+"/1767434200.M3P1.mx.example.org")
	if diff := cmp.Diff(want, sorted(sink.keys()...)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("import changed the Maildir: %v", err)
		}
	}
	// The watcher marking a message seen later changes its name, not its unique part.
	if err := os.Rename(filepath.Join(dir, "new/1767434400.M1P1.mx.example.org"),
		filepath.Join(dir, "cur/1767434400.M1P1.mx.example.org:2,S")); err != nil {
		t.Fatal(err)
	}
	again, err := Import(context.Background(), dir, sink, ImportOptions{})
	if err != nil || again.Known != 3 || again.Imported != 0 {
		t.Errorf("second import %+v, %v; want 3 known", again, err)
	}
}

func TestImportMessageFile(t *testing.T) {
	sink := newSink(t)
	path := filepath.Join(t.TempDir(), "report.eml")
	if err := os.WriteFile(path, []byte(complaint(7)), 0o600); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	prog := &progressLog{t: t}
	sum, err := Import(context.Background(), path, sink, ImportOptions{Progress: prog.record})
	if err != nil || sum.Imported != 1 || prog.last() != [2]int{1, 1} {
		t.Fatalf("Import = %+v, %v, progress %v", sum, err, prog.calls)
	}
	if got := stored(t, sink); len(got) != 1 || got[0] != complaint(7) {
		t.Errorf("stored %q", got)
	}
	if st, _ := sink.st.Stats(context.Background()); len(st.Intake) != 1 || st.Intake[0].Month != "2025-11" {
		t.Errorf("the file's time is not the received month: %+v", st.Intake)
	}
	sum, err = Import(context.Background(), path, sink, ImportOptions{MaxMessageBytes: 10})
	if err != nil || len(sum.Failed) != 1 || sum.Known != 0 {
		t.Errorf("import over the cap = %+v, %v; want one failure", sum, err)
	}
}

func TestImportStoreFailureStopsAndResumes(t *testing.T) {
	sink := newSink(t)
	path := filepath.Join(t.TempDir(), "abuse.mbox")
	if err := os.WriteFile(path, []byte(mboxOf(lf(complaint(1)), lf(complaint(2)), lf(complaint(3)))), 0o600); err != nil {
		t.Fatal(err)
	}
	sink.setFail(errStoreDown)
	sum, err := Import(context.Background(), path, sink, ImportOptions{})
	if !errors.Is(err, errStoreDown) || sum.Imported != 0 {
		t.Fatalf("Import with the store down = %+v, %v; want the store's error", sum, err)
	}
	if n := len(sink.keys()); n != 1 {
		t.Errorf("the import went on after the store failed: %d deliveries", n)
	}
	sink.setFail(nil)
	sum, err = Import(context.Background(), path, sink, ImportOptions{})
	if err != nil || sum.Imported != 3 {
		t.Fatalf("Import after the store came back = %+v, %v", sum, err)
	}
}

func TestImportCancelled(t *testing.T) {
	sink := newSink(t)
	path := filepath.Join(t.TempDir(), "abuse.mbox")
	if err := os.WriteFile(path, []byte(mboxOf(lf(complaint(1)), lf(complaint(2)))), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sum, err := Import(ctx, path, sink, ImportOptions{Progress: func(done, total int) {
		if done == 1 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || sum.Imported != 1 {
		t.Fatalf("Import cancelled after one message = %+v, %v", sum, err)
	}
}

func TestImportRefuses(t *testing.T) {
	sink := newSink(t)
	for name, path := range map[string]string{
		"missing":   filepath.Join(t.TempDir(), "missing"),
		"plain dir": t.TempDir(),
	} {
		if _, err := Import(context.Background(), path, sink, ImportOptions{}); err == nil {
			t.Errorf("%s: Import succeeded", name)
		}
	}
	eml := filepath.Join(t.TempDir(), "one.eml")
	if err := os.WriteFile(eml, []byte(complaint(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), eml, sink, ImportOptions{MaxMessageBytes: 1 << 40}); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("a cap over the store's: %v", err)
	}
}

func TestSeparatorTime(t *testing.T) {
	tests := []struct {
		sep  string
		want time.Time
	}{
		{sep: "reports@example.net Sat Jan  3 10:00:00 2026", want: time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)},
		{sep: "MAILER-DAEMON Fri Dec 12 23:59:59 2025", want: time.Date(2025, 12, 12, 23, 59, 59, 0, time.UTC)},
		{sep: "a@example.org Sat Jan 3 10:00:00 +0100 2026", want: time.Date(2026, 1, 3, 9, 0, 0, 0, time.UTC)},
		{sep: "a@example.org yesterday"},
		{sep: ""},
	}
	for _, tt := range tests {
		if got := separatorTime(tt.sep); !got.Equal(tt.want) {
			t.Errorf("separatorTime(%q) = %v, want %v", tt.sep, got, tt.want)
		}
	}
}

// FuzzSeparatorTime checks the mbox separator's date reader: no panic, and a date it finds
// reads the same when written back in the layout it came in.
func FuzzSeparatorTime(f *testing.F) {
	f.Add("reports@example.net Sat Jan  3 10:00:00 2026")
	f.Add("a@example.org Sat Jan 3 10:00:00 +0100 2026")
	f.Add("x Mon Feb 30 25:61:61 99999")
	f.Fuzz(func(t *testing.T, sep string) {
		got := separatorTime(sep)
		if got.IsZero() {
			return
		}
		if again := separatorTime("x " + got.Format("Mon Jan _2 15:04:05 -0700 2006")); !again.Equal(got) {
			t.Fatalf("separatorTime(%q) = %v, written back reads %v", sep, got, again)
		}
	})
}
