// Package crashpoint lets the crash-safety tests kill a process at a named step boundary.
// With SORTIE_CRASHPOINT unset (always, outside those tests) Hit costs one atomic load.
//
// SORTIE_CRASHPOINT=NAME:N makes the N-th Hit(NAME) of the process (counted from 1) send
// SIGKILL to the process itself: no deferred function, no flush, no clean-up runs, as when
// the machine loses power or the kernel's OOM killer strikes.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Env is the environment variable read once, at the first Hit.
const Env = "SORTIE_CRASHPOINT"

var (
	once   sync.Once
	armed  atomic.Bool
	target string
	left   atomic.Int64
)

func load() {
	v := os.Getenv(Env)
	name, n, ok := strings.Cut(v, ":")
	if !ok || name == "" {
		return
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		return
	}
	target = name
	left.Store(int64(count))
	armed.Store(true)
}

// Hit marks the step boundary name. It kills the process when this is the boundary and
// the count the environment names.
func Hit(name string) {
	once.Do(load)
	if !armed.Load() || name != target {
		return
	}
	if left.Add(-1) == 0 {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never return into the next step
	}
}
