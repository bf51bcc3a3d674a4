package ringlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// messages returns the msg field of every unexpired record, oldest first.
func messages(t *testing.T, r *Ring) []string {
	t.Helper()
	var out []string
	for _, e := range r.Records() {
		var m struct{ Msg string }
		if err := json.Unmarshal([]byte(e.Line), &m); err != nil {
			t.Fatalf("record %q is not JSON: %v", e.Line, err)
		}
		out = append(out, m.Msg)
	}
	return out
}

// nonZero counts the arena bytes that are not zero.
func nonZero(r *Ring) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.arena {
		if b != 0 {
			n++
		}
	}
	return n
}

func TestSweeperExpiresWithoutNewRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(Options{TTL: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		log := slog.New(r.Handler())

		synctest.Wait() // the sweeper is now idle on an empty ring
		log.Info("first")
		time.Sleep(30 * time.Second)
		log.Info("second")
		steps := []struct {
			name    string
			sleep   time.Duration
			wantLen int
		}{
			{name: "both alive at 59s", sleep: 29 * time.Second, wantLen: 2},
			{name: "first gone at 60s", sleep: time.Second, wantLen: 1},
			{name: "second alive at 89s", sleep: 29 * time.Second, wantLen: 1},
			{name: "all gone at 90s", sleep: time.Second, wantLen: 0},
		}
		for _, s := range steps {
			time.Sleep(s.sleep)
			synctest.Wait()
			if got := r.Len(); got != s.wantLen {
				t.Errorf("%s: Len() = %d, want %d", s.name, got, s.wantLen)
			}
		}
		if got := nonZero(r); got != 0 {
			t.Errorf("after expiry %d arena bytes are not zero", got)
		}
		log.Info("third") // the sweeper wakes again for a record in an empty ring
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.Len(); got != 0 {
			t.Errorf("third record: Len() = %d after TTL, want 0", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}

func TestRecordsHidesExpiredBeforeSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := New(Options{TTL: time.Second})
		slog.New(r.Handler()).Info("old")
		time.Sleep(time.Second)
		if got := messages(t, r); len(got) != 0 {
			t.Errorf("Records() = %q after TTL, want none", got)
		}
	})
}

func TestTTLZeroKeepsNothing(t *testing.T) {
	r := New(Options{})
	log := slog.New(r.Handler())
	log.Error("secret", "k", "v")
	if log.Enabled(t.Context(), slog.LevelError) {
		t.Error("Enabled(ERROR) = true with TTL 0, want false")
	}
	sink{r}.Write([]byte(`{"msg":"direct"}` + "\n"))
	if r.Len() != 0 || r.Bytes() != 0 || nonZero(r) != 0 || len(r.Records()) != 0 {
		t.Errorf("TTL 0 kept something: Len %d, Bytes %d, arena %d", r.Len(), r.Bytes(), nonZero(r))
	}
}

// recordSize is the size of a record "mN" logged at the bubble's fixed start time.
func recordSize() int {
	probe := New(Options{TTL: time.Hour})
	slog.New(probe.Handler()).Info("m0")
	return probe.Bytes()
}

func TestBounds(t *testing.T) {
	var size int
	synctest.Test(t, func(*testing.T) { size = recordSize() })
	tests := []struct {
		name     string
		opts     Options
		log      int
		want     []string
		wantSize int
	}{
		{
			name: "by entries",
			opts: Options{TTL: time.Hour, MaxEntries: 3},
			log:  6, want: []string{"m3", "m4", "m5"}, wantSize: 3 * size,
		},
		{
			name: "by bytes, wrapping the arena",
			opts: Options{TTL: time.Hour, MaxBytes: 3*size + size/2},
			log:  9, want: []string{"m6", "m7", "m8"}, wantSize: 3 * size,
		},
		{
			name: "exact fit",
			opts: Options{TTL: time.Hour, MaxBytes: 2 * size},
			log:  5, want: []string{"m3", "m4"}, wantSize: 2 * size,
		},
		{
			name: "under both bounds",
			opts: Options{TTL: time.Hour},
			log:  2, want: []string{"m0", "m1"}, wantSize: 2 * size,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := New(tt.opts)
				log := slog.New(r.Handler())
				for i := range tt.log {
					log.Info(fmt.Sprintf("m%d", i))
				}
				if diff := cmp.Diff(tt.want, messages(t, r)); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
				if got := r.Bytes(); got != tt.wantSize {
					t.Errorf("Bytes() = %d, want %d", got, tt.wantSize)
				}
			})
		})
	}
}

func TestLargeRecordEvictsSeveral(t *testing.T) {
	r := New(Options{TTL: time.Hour, MaxBytes: 400})
	log := slog.New(r.Handler())
	for i := range 4 {
		log.Info(fmt.Sprintf("m%d", i))
	}
	log.Info("big", "pad", strings.Repeat("x", 200))
	got := messages(t, r)
	if len(got) == 0 || got[len(got)-1] != "big" || len(got) >= 5 {
		t.Errorf("records = %q, want some of m0..m3 evicted and big last", got)
	}
	if r.Bytes() > 400 {
		t.Errorf("Bytes() = %d, want at most 400", r.Bytes())
	}
	log.Info("huge", "pad", strings.Repeat("x", 500))
	if got := r.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1", got)
	}
	if diff := cmp.Diff(got, messages(t, r)); diff != "" {
		t.Errorf("a dropped record changed the ring (-before +after):\n%s", diff)
	}
}

func TestEvictionZeroesArena(t *testing.T) {
	r := New(Options{TTL: time.Hour, MaxBytes: 1000, MaxEntries: 7})
	log := slog.New(r.Handler())
	for i := range 60 {
		log.Info("event", "secret", fmt.Sprintf("s%03d", i), "pad", strings.Repeat("p", i%23))
		// JSON lines hold no zero bytes, so every non-zero arena byte belongs to a live record.
		if got, want := nonZero(r), r.Bytes(); got != want {
			t.Fatalf("after record %d: %d non-zero arena bytes, want %d (live bytes)", i, got, want)
		}
	}
	r.mu.Lock()
	leaked := bytes.Contains(r.arena, []byte("s000"))
	r.mu.Unlock()
	if leaked {
		t.Error("arena still holds the first, evicted record")
	}
}

func TestWithAttrsAndGroups(t *testing.T) {
	r := New(Options{TTL: time.Hour, Level: slog.LevelDebug})
	base := slog.New(r.Handler())
	base.With("a", 1).WithGroup("g").With("b", "x y").Debug("hello", "c", true)
	base.WithGroup("h").Warn("two", slog.Group("n", "k", "v=w"))
	base.Info("plain", "empty", "", "list", []string{"p", "q"})
	var got []string
	for _, e := range r.Records() {
		text := e.Text()
		rest, ok := strings.CutPrefix(text, "time=")
		if !ok {
			t.Fatalf("Text() = %q, want it to start with time=", text)
		}
		_, rest, _ = strings.Cut(rest, " ")
		got = append(got, rest)
	}
	want := []string{
		`level=DEBUG msg=hello a=1 g.b="x y" g.c=true`,
		`level=WARN msg=two h.n.k="v=w"`,
		`level=INFO msg=plain empty="" list="[\"p\",\"q\"]"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestLevelFilters(t *testing.T) {
	r := New(Options{TTL: time.Hour, Level: slog.LevelWarn})
	log := slog.New(r.Handler())
	log.Info("quiet")
	log.Warn("loud")
	if diff := cmp.Diff([]string{"loud"}, messages(t, r)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name string
		msgs []string
		want []string
	}{
		{name: "empty", want: nil},
		{name: "two", msgs: []string{"a", "b \"quoted\"\n"}, want: []string{"a", "b \"quoted\"\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{TTL: time.Hour})
			for _, m := range tt.msgs {
				slog.New(r.Handler()).Info(m, "n", 7)
			}
			var buf bytes.Buffer
			if err := r.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			var recs []struct {
				Msg string
				N   int
			}
			if err := json.Unmarshal(buf.Bytes(), &recs); err != nil {
				t.Fatalf("WriteJSON wrote invalid JSON %q: %v", buf.String(), err)
			}
			var got []string
			for _, rec := range recs {
				if rec.N != 7 {
					t.Errorf("record %q: n = %d, want 7", rec.Msg, rec.N)
				}
				got = append(got, rec.Msg)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	r := New(Options{TTL: time.Hour})
	log := slog.New(r.Handler())
	log.Info("one", "k", 1)
	log.Error("two\nlines")
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var got []string
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, " ")
		got = append(got, rest)
	}
	want := []string{`level=INFO msg=one k=1`, `level=ERROR msg="two\nlines"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func TestEntryTextNotJSON(t *testing.T) {
	if got, want := (Entry{Line: "not json"}).Text(), `"not json"`; got != want {
		t.Errorf("Text() = %s, want %s", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New(Options{TTL: time.Hour, MaxEntries: 50, MaxBytes: 4000})
	log := slog.New(r.Handler())
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			l := log.With("g", g)
			for i := range 300 {
				l.Info("event", "i", i)
				if i%50 == 0 {
					r.WriteText(&bytes.Buffer{})
					r.WriteJSON(&bytes.Buffer{})
				}
			}
		})
	}
	wg.Wait()
	if r.Len() > 50 || r.Bytes() > 4000 {
		t.Errorf("bounds exceeded: Len %d, Bytes %d", r.Len(), r.Bytes())
	}
	if got, want := nonZero(r), r.Bytes(); got != want {
		t.Errorf("%d non-zero arena bytes, want %d", got, want)
	}
	for _, e := range r.Records() {
		if !json.Valid([]byte(e.Line)) {
			t.Errorf("corrupt record %q", e.Line)
		}
	}
}

func TestSwapListed(t *testing.T) {
	const header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{name: "header only", input: header, want: false},
		{name: "empty", input: "", want: false},
		{name: "one partition", input: header + "/dev/sda2 partition 1048572 0 -2\n", want: true},
		{name: "trailing blank line", input: header + "\n", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := swapListed(strings.NewReader(tt.input)); got != tt.want {
				t.Errorf("swapListed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSinkZeroesFormatBuffer(t *testing.T) {
	r := New(Options{TTL: time.Hour})
	buf := []byte(`{"msg":"secret"}` + "\n")
	if n, err := (sink{r}).Write(buf); n != len(buf) || err != nil {
		t.Fatalf("Write() = %d, %v, want %d, nil", n, err, len(buf))
	}
	if !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Errorf("format buffer after Write = %q, want zeros", buf)
	}
	if diff := cmp.Diff([]string{"secret"}, messages(t, r)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}
