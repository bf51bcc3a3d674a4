package daemon

import (
	"log/slog"

	"golang.org/x/sys/unix"
)

// descriptorsPerConnection is what one proxied connection may hold: the client's socket and
// the upstream's (the relay holds no pipe while a tunnel is idle).
const descriptorsPerConnection = 2

// spareDescriptors covers listeners, the resolver, the admin and metrics endpoints and files.
const spareDescriptors = 64

// checkDescriptors raises the soft limit on open files to the hard limit and warns when even
// that cannot hold the configured connection cap: past it, accept fails with EMFILE (the
// gateway backs off instead of spinning, but new users are turned away).
func checkDescriptors(maxConns int, log *slog.Logger) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		log.Warn("could not read the open-file limit", "error", err)
		return
	}
	if rl.Cur < rl.Max {
		raised := unix.Rlimit{Cur: rl.Max, Max: rl.Max}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &raised); err == nil {
			rl = raised
		}
	}
	need := uint64(maxConns)*descriptorsPerConnection + spareDescriptors
	if rl.Cur < need {
		log.Warn("the open-file limit is too low for gateway.max_connections: raise LimitNOFILE or lower max_connections",
			"limit", rl.Cur, "needed", need, "max_connections", maxConns)
	}
}
