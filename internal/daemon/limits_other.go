//go:build !linux

package daemon

import "log/slog"

// checkDescriptors does nothing on this platform.
func checkDescriptors(int, *slog.Logger) {}
