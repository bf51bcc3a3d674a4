package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// registryDir records the labs alive on this machine, one file PREFIX.PID each, so that the
// last lab to end can take the guard routes away again: they are a safety net while test
// hosts exist, not a lasting change to the machine (where the documentation ranges may hold
// something real, such as a package mirror).
var registryDir = "/run/sortie-netlab"

// register records the lab prefix of this process.
func register(dir, prefix string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.%d", prefix, os.Getpid())), nil, 0o644)
}

// unregister removes the lab's record and says whether no other live lab remains. Records of
// processes that are gone (a test killed before its cleanup) are removed on the way.
func unregister(dir, prefix string) (last bool, err error) {
	if err := os.Remove(filepath.Join(dir, fmt.Sprintf("%s.%d", prefix, os.Getpid()))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	last = true
	for _, e := range entries {
		i := strings.LastIndexByte(e.Name(), '.')
		pid, perr := strconv.Atoi(e.Name()[i+1:])
		if i < 0 || perr != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
			last = false
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
	return last, nil
}

// unguardRanges removes the guard routes guardRanges added.
func unguardRanges() error {
	var errs []error
	for _, r := range testRanges {
		p := netip.MustParsePrefix(r)
		family := "-4"
		if p.Addr().Is6() {
			family = "-6"
		}
		for {
			out, err := outputIP(family, "route", "show", "table", "main", "type", "unreachable", "match", r)
			if err != nil || !strings.Contains(out, r) || !strings.Contains(out, "metric 4000") {
				break
			}
			if err := runIP(family, "route", "del", "unreachable", r, "metric", "4000"); err != nil {
				errs = append(errs, fmt.Errorf("removing the guard of %s: %w", r, err))
				break
			}
		}
	}
	return errors.Join(errs...)
}
