package daemon

import (
	"log/slog"

	"golang.org/x/sys/unix"
)

// Harden closes ways a process leaks memory to disk: core dumps are switched off and the
// process is made non-dumpable, so a crash or a ptrace attach by another user yields nothing.
func Harden(log *slog.Logger) {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		log.Warn("could not switch core dumps off", "error", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		log.Warn("could not mark the process non-dumpable", "error", err)
	}
}
