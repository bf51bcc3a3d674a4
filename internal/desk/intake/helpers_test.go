package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"sortie.dev/sortie/internal/store"
)

// testSink is the real store with two switches for tests: fail makes Deliver return an
// error without storing; gate makes Deliver wait before storing. It records each call.
type testSink struct {
	st *store.Store

	mu    sync.Mutex
	fail  error
	after bool // fail after storing: the commit happened, the caller hears of a failure
	gate  chan struct{}
	calls []store.Delivery
}

func newSink(t *testing.T) *testSink {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &testSink{st: st}
}

func (s *testSink) Deliver(ctx context.Context, d store.Delivery) (store.Stored, error) {
	s.mu.Lock()
	s.calls = append(s.calls, d)
	fail, after, gate := s.fail, s.after, s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return store.Stored{}, ctx.Err()
		}
	}
	if fail != nil && !after {
		return store.Stored{}, fail
	}
	st, err := s.st.Deliver(ctx, d)
	if fail != nil {
		return store.Stored{}, fail
	}
	return st, err
}

// setFailAfterCommit makes Deliver store, then report err: what a crash between the commit
// and the acknowledgement looks like to the source.
func (s *testSink) setFailAfterCommit(err error) {
	s.mu.Lock()
	s.fail, s.after = err, err != nil
	s.mu.Unlock()
}

func (s *testSink) setFail(err error) {
	s.mu.Lock()
	s.fail, s.after = err, false
	s.mu.Unlock()
}

func (s *testSink) setGate(g chan struct{}) {
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
}

func (s *testSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, d := range s.calls {
		keys = append(keys, d.Key)
	}
	return keys
}

var errStoreDown = errors.New("store is down (test)")

// quiet is a logger for tests that do not look at the log.
var quiet = slog.New(slog.DiscardHandler)

// stored returns the bytes of every message in the store, sorted.
func stored(t *testing.T, s *testSink) []string {
	t.Helper()
	ctx := context.Background()
	ids, err := s.st.Unprocessed(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range ids {
		raw, err := s.st.Raw(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	slices.Sort(out)
	return out
}

// repeats returns the store's total repeat count.
func repeats(t *testing.T, s *testSink) int {
	t.Helper()
	st, err := s.st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range st.Intake {
		n += c.Repeats
	}
	return n
}

// complaint returns a synthetic complaint mail with CRLF line ends.
func complaint(n int) string {
	return fmt.Sprintf("From: reports@example.net\r\nTo: abuse@example.org\r\nSubject: Abuse report %d\r\n"+
		"Message-ID: <%d@example.net>\r\n\r\nAbuse from 203.0.113.%d at 2026-01-03 10:00 UTC.\r\n", n, n, n%250)
}

// textLogger is a slog logger writing text into w, for tests that count log lines.
func textLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
