//go:build !linux

package daemon

import "log/slog"

// Harden does nothing on this platform.
func Harden(log *slog.Logger) {}
