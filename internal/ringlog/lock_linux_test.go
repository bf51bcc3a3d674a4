package ringlog

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lockedKiB reads VmLck, the process's locked memory, from /proc/self/status.
func lockedKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmLck:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmLck line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatal("no VmLck line in /proc/self/status")
	return 0
}

func TestLockPinsArena(t *testing.T) {
	const size = 256 << 10
	r := New(Options{TTL: time.Hour, MaxBytes: size})
	before := lockedKiB(t)
	if err := r.Lock(); err != nil {
		if os.Getuid() != 0 && os.Getenv("CI") != "true" {
			t.Skipf("mlock not permitted for this user (RLIMIT_MEMLOCK): %v", err)
		}
		t.Fatalf("Lock() = %v", err)
	}
	if got := lockedKiB(t) - before; got < size/1024 {
		t.Errorf("VmLck grew by %d KiB, want at least %d", got, size/1024)
	}
}

func TestPageAligned(t *testing.T) {
	b := make([]byte, 3*4096*4)
	a := pageAligned(b[1:])
	if len(a) == 0 || len(a)%4096 != 0 {
		t.Errorf("pageAligned gave %d bytes, want a non-zero multiple of the page size", len(a))
	}
	if got := pageAligned(b[:10]); len(got) != 0 {
		t.Errorf("pageAligned of 10 bytes gave %d bytes, want 0", len(got))
	}
}

func TestUnreachableRingUnlocksArena(t *testing.T) {
	const size = 512 << 10
	r := New(Options{TTL: time.Hour, MaxBytes: size})
	if err := r.Lock(); err != nil {
		t.Skipf("cannot lock: %v", err) // TestLockPinsArena reports this case
	}
	locked := lockedKiB(t)
	r = nil
	for range 100 {
		runtime.GC()
		if lockedKiB(t) <= locked-size/1024 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("VmLck = %d KiB one second after the ring became unreachable, want at most %d", lockedKiB(t), locked-size/1024)
}
