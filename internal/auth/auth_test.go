package auth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mustHash returns the PHC string of password with cheap parameters.
func mustHash(t testing.TB, password string, p Params) string {
	t.Helper()
	h, err := NewHash(password, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// testUsers returns alice/wonderland and bob/builder with cheap hashes.
func testUsers(t testing.TB) map[string]string {
	return map[string]string{
		"alice": mustHash(t, "wonderland", cheap),
		"bob":   mustHash(t, "builder", cheap),
	}
}

// counted wraps v's argon2 verification with a counter of computations.
func counted(v *Verifier) *atomic.Int64 {
	var n atomic.Int64
	verify := v.verify
	v.verify = func(h Hash, password string) bool {
		n.Add(1)
		return verify(h, password)
	}
	return &n
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newVerifier(t testing.TB, users map[string]string, o Options) *Verifier {
	t.Helper()
	o.MinCost = 1
	v, err := New(users, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheck(t *testing.T) {
	v := newVerifier(t, testUsers(t), Options{})
	tests := []struct {
		name, user, password string
		want                 bool
	}{
		{name: "right password", user: "alice", password: "wonderland", want: true},
		{name: "other user", user: "bob", password: "builder", want: true},
		{name: "wrong password", user: "alice", password: "builder"},
		{name: "empty password", user: "alice", password: ""},
		{name: "password with suffix", user: "alice", password: "wonderland "},
		{name: "unknown user", user: "carol", password: "wonderland"},
		{name: "user case differs", user: "Alice", password: "wonderland"},
		{name: "empty user", user: "", password: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Check(t.Context(), tc.user, tc.password)
			if err != nil {
				t.Fatalf("Check error %v, want nil", err)
			}
			if got != tc.want {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCacheHitAvoidsArgon2(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	var outcomes []Outcome
	v := newVerifier(t, testUsers(t), Options{
		CacheTTL: time.Minute,
		Now:      clock.Now,
		Observe:  func(o Outcome) { outcomes = append(outcomes, o) },
	})
	n := counted(v)
	steps := []struct {
		user, password string
		advance        time.Duration
		want           bool
		computations   int64 // total so far
	}{
		{user: "alice", password: "wonderland", want: true, computations: 1},
		{user: "alice", password: "wonderland", want: true, computations: 1},
		{user: "alice", password: "wonderland", advance: 59 * time.Second, want: true, computations: 1},
		{user: "alice", password: "wrong", want: false, computations: 2},
		{user: "alice", password: "wrong", want: false, computations: 3},
		{user: "bob", password: "wonderland", want: false, computations: 4},
		{user: "alice", password: "wonderland", advance: time.Second, want: true, computations: 5},
		{user: "alice", password: "wonderland", want: true, computations: 5},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		got, err := v.Check(t.Context(), s.user, s.password)
		if err != nil || got != s.want {
			t.Errorf("step %d: Check = %v, %v, want %v, nil", i, got, err, s.want)
		}
		if n.Load() != s.computations {
			t.Errorf("step %d: %d argon2 computations, want %d", i, n.Load(), s.computations)
		}
	}
	want := []Outcome{Accepted, Cached, Cached, Rejected, Rejected, Rejected, Accepted, Cached}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestCacheDisabled(t *testing.T) {
	v := newVerifier(t, testUsers(t), Options{CacheTTL: -1})
	n := counted(v)
	for range 3 {
		if ok, err := v.Check(t.Context(), "alice", "wonderland"); !ok || err != nil {
			t.Fatalf("Check = %v, %v, want true, nil", ok, err)
		}
	}
	if n.Load() != 3 {
		t.Errorf("%d computations with the cache off, want 3", n.Load())
	}
}

func TestUnknownUserCostsAComputation(t *testing.T) {
	users := testUsers(t)
	v := newVerifier(t, users, Options{})
	var used []Hash
	v.verify = func(h Hash, password string) bool {
		used = append(used, h)
		return h.Verify(password)
	}
	for range 2 {
		if ok, err := v.Check(t.Context(), "mallory", "wonderland"); ok || err != nil {
			t.Fatalf("Check(unknown) = %v, %v, want false, nil", ok, err)
		}
	}
	if len(used) != 2 {
		t.Fatalf("%d argon2 computations for 2 unknown-user checks, want 2 (no cache, no shortcut)", len(used))
	}
	if diff := cmp.Diff(cheap, used[0].Params); diff != "" {
		t.Errorf("the dummy hash's parameters differ from the users' (-users +dummy):\n%s", diff)
	}
	if len(used[0].Key) != KeyLen {
		t.Errorf("dummy key of %d bytes, want %d", len(used[0].Key), KeyLen)
	}
}

func TestDummyParams(t *testing.T) {
	other := Params{Memory: 128, Time: 1, Threads: 1}
	tests := []struct {
		name  string
		users []Params
		want  Params
	}{
		{name: "no users", want: DefaultParams},
		{name: "one", users: []Params{other}, want: other},
		{name: "majority", users: []Params{cheap, cheap, other}, want: cheap},
		{name: "tie goes to the costlier", users: []Params{cheap, other}, want: other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users := map[string]user{}
			for i, p := range tc.users {
				users[strings.Repeat("u", i+1)] = user{hash: Hash{Params: p}}
			}
			if diff := cmp.Diff(tc.want, dummyParams(users)); diff != "" {
				t.Errorf("dummyParams (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	users := map[string]string{
		"good":  mustHash(t, "x", DefaultParams),
		"weak":  mustHash(t, "x", cheap),
		"plain": "hunter2",
		"":      mustHash(t, "x", DefaultParams),
		"a:b":   mustHash(t, "x", DefaultParams),
	}
	_, err := New(users, Options{})
	if err == nil {
		t.Fatal("New accepted a weak hash, a plain password and an empty name")
	}
	for _, want := range []string{`user "weak"`, "too weak", `user "plain"`, "empty user name", "colon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q repeats what was in the hash field", err)
	}
	if !errors.Is(err, ErrHashWeak) || !errors.Is(err, ErrHashFormat) {
		t.Errorf("error %v does not wrap ErrHashWeak and ErrHashFormat", err)
	}
}

func TestNoUsers(t *testing.T) {
	v, err := New(nil, Options{MinCost: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := v.Check(t.Context(), "", ""); ok || err != nil {
		t.Errorf("Check on an empty verifier = %v, %v, want false, nil", ok, err)
	}
}

func TestReuseKeepsCacheForUnchangedUsers(t *testing.T) {
	users := testUsers(t)
	old := newVerifier(t, users, Options{})
	if ok, _ := old.Check(t.Context(), "alice", "wonderland"); !ok {
		t.Fatal("alice rejected")
	}
	if ok, _ := old.Check(t.Context(), "bob", "builder"); !ok {
		t.Fatal("bob rejected")
	}
	users["bob"] = mustHash(t, "new password", cheap)
	next := newVerifier(t, users, Options{Reuse: old})
	n := counted(next)
	if ok, _ := next.Check(t.Context(), "alice", "wonderland"); !ok || n.Load() != 0 {
		t.Errorf("unchanged user after reload: ok %v after %d computations, want true after 0", ok, n.Load())
	}
	if ok, _ := next.Check(t.Context(), "bob", "builder"); ok || n.Load() != 1 {
		t.Errorf("changed user, old password: ok %v after %d computations, want false after 1", ok, n.Load())
	}
	delete(users, "alice")
	gone := newVerifier(t, users, Options{Reuse: next})
	if ok, _ := gone.Check(t.Context(), "alice", "wonderland"); ok {
		t.Errorf("removed user accepted from the old cache")
	}
}

// holdArgon2 makes v's computations block until release is closed; started receives one value
// per computation that began.
func holdArgon2(v *Verifier) (started chan struct{}, release chan struct{}) {
	started, release = make(chan struct{}, 16), make(chan struct{})
	v.verify = func(h Hash, password string) bool {
		started <- struct{}{}
		<-release
		return h.Verify(password)
	}
	return started, release
}

// waitFor polls cond for at most two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func TestConcurrentComputationsCapped(t *testing.T) {
	const slots = 2
	v := newVerifier(t, testUsers(t), Options{MaxConcurrent: slots, Wait: 10 * time.Second, CacheTTL: -1})
	started, release := holdArgon2(v)
	results := make(chan error, slots+1)
	for range slots + 1 {
		go func() {
			ok, err := v.Check(context.Background(), "alice", "wonderland")
			if err == nil && !ok {
				err = errors.New("rejected")
			}
			results <- err
		}()
	}
	for range slots {
		<-started
	}
	waitFor(t, "the extra check waits", func() bool { return v.waiting.Load() == 1 })
	select {
	case <-started:
		t.Fatalf("%d computations ran at once, want at most %d", slots+1, slots)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-started // the extra check got a slot once the others finished
	for range slots + 1 {
		if err := <-results; err != nil {
			t.Errorf("Check: %v", err)
		}
	}
}

func TestBusy(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		opts    Options
		ctx     context.Context
		waiting int // checks queued before the one under test
		also    error
	}{
		{name: "wait times out", opts: Options{Wait: 20 * time.Millisecond}, ctx: context.Background()},
		{name: "context ends", opts: Options{Wait: time.Minute}, ctx: cancelled, also: context.Canceled},
		{name: "queue full", opts: Options{Wait: time.Minute, MaxWaiting: 1}, ctx: context.Background(), waiting: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var busy atomic.Int64
			tc.opts.MaxConcurrent = 1
			tc.opts.Observe = func(o Outcome) {
				if o == Busy {
					busy.Add(1)
				}
			}
			v := newVerifier(t, testUsers(t), tc.opts)
			started, release := holdArgon2(v)
			var wg sync.WaitGroup
			for range 1 + tc.waiting {
				wg.Go(func() { v.Check(context.Background(), "alice", "wonderland") })
			}
			<-started
			waitFor(t, "the queue fills", func() bool { return v.waiting.Load() == int64(tc.waiting) })
			ok, err := v.Check(tc.ctx, "alice", "wonderland")
			if ok || !errors.Is(err, ErrBusy) {
				t.Errorf("Check = %v, %v, want false, ErrBusy", ok, err)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Errorf("error %v does not wrap %v", err, tc.also)
			}
			if busy.Load() != 1 {
				t.Errorf("%d busy outcomes observed, want 1", busy.Load())
			}
			close(release)
			wg.Wait()
		})
	}
}

func TestOutcomeString(t *testing.T) {
	got := []string{Cached.String(), Accepted.String(), Rejected.String(), Busy.String(), Outcome(0).String()}
	want := []string{"cached", "accepted", "rejected", "busy", "unknown"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outcome strings (-want +got):\n%s", diff)
	}
}

// TestDummyIsLazy: a verifier whose users never see an unknown name never derives the
// unknown-user hash (64 MiB of argon2id memory at the default parameters).
func TestDummyIsLazy(t *testing.T) {
	v, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v2, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("New allocated %d bytes: the unknown-user hash was derived at start", grew)
	}
	first, second := v2.dummy(), v2.dummy()
	if first.stored == "" || first.stored != second.stored {
		t.Fatalf("the dummy is not derived once: %q then %q", first.stored, second.stored)
	}
	if v.dummy().stored == first.stored {
		t.Fatal("two verifiers share one dummy (same salt and password)")
	}
}
