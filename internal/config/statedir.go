package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StateDir returns the directory Sortie keeps its state in: data_dir when set, else the
// first entry of $STATE_DIRECTORY (set by systemd's StateDirectory=), else
// $XDG_STATE_HOME/sortie (when absolute), else ~/.local/state/sortie. It does not create it:
// see EnsureDir.
func (c *Config) StateDir() (string, error) {
	if c.DataDir != "" {
		return c.DataDir, nil
	}
	if sd, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); sd != "" {
		return sd, nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "sortie"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("state dir: set data_dir, $STATE_DIRECTORY or $XDG_STATE_HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "sortie"), nil
}

// EnsureDir creates the directory path and its missing parents with mode 0700. An existing
// directory that group or others may access is tightened to 0700. A path that exists and is
// not a directory is an error.
func EnsureDir(path string) error {
	if path == "" {
		return errors.New("ensure dir: empty path")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("ensure dir: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("ensure dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("ensure dir: %s is not a directory", path)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return fmt.Errorf("ensure dir: tighten to 0700: %w", err)
	}
	return nil
}
