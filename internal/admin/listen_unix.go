//go:build unix

package admin

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// ListenUnix listens on a unix socket at path that only the owner can use (mode 0600). The
// socket is bound under a umask of 0177, so it is never reachable by others, and chmodded
// afterwards. A stale socket left by a previous run is removed first; ListenUnix refuses when
// path exists and is not a socket, or when a live server still answers on it. The listener
// removes the socket file when closed.
func ListenUnix(path string) (net.Listener, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on unix socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin: chmod unix socket: %w", err)
	}
	return ln, nil
}

// removeStale removes a socket file at path that no server answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin: check socket path: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("admin: refusing to replace %s: it exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("admin: socket %s is in use by a running server", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("admin: remove stale socket: %w", err)
	}
	return nil
}
