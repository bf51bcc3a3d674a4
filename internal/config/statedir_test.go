package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateDir(t *testing.T) {
	tests := []struct {
		name    string
		dataDir string
		state   string
		xdg     string
		home    string
		want    string
	}{
		{name: "data_dir wins", dataDir: "/srv/sortie", state: "/var/lib/sortie", xdg: "/x", home: "/home/op", want: "/srv/sortie"},
		{name: "STATE_DIRECTORY next", state: "/var/lib/sortie", xdg: "/x", home: "/home/op", want: "/var/lib/sortie"},
		{name: "first STATE_DIRECTORY entry", state: "/var/lib/sortie:/var/lib/other", home: "/home/op", want: "/var/lib/sortie"},
		{name: "XDG_STATE_HOME next", xdg: "/home/op/.state", home: "/home/op", want: "/home/op/.state/sortie"},
		{name: "relative XDG_STATE_HOME ignored", xdg: "state", home: "/home/op", want: "/home/op/.local/state/sortie"},
		{name: "home last", home: "/home/op", want: "/home/op/.local/state/sortie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STATE_DIRECTORY", tt.state)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			c := Default()
			c.DataDir = tt.dataDir
			got, err := c.StateDir()
			if err != nil {
				t.Fatalf("StateDir: %v", err)
			}
			if got != tt.want {
				t.Errorf("StateDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStateDirNoHome(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "")
	if got, err := Default().StateDir(); err == nil {
		t.Errorf("StateDir() = %q, want an error without any hint", got)
	}
}

func TestEnsureDir(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, path string)
		wantErr     string
		wantParents bool // the parents were created, so they are 0700 too
	}{
		{name: "creates it and its parents", setup: func(t *testing.T, path string) {}, wantParents: true},
		{name: "tightens a loose directory", setup: func(t *testing.T, path string) { mkdir(t, path, 0o755) }},
		{name: "tightens a group-writable directory", setup: func(t *testing.T, path string) { mkdir(t, path, 0o770) }},
		{name: "keeps a private directory", setup: func(t *testing.T, path string) { mkdir(t, path, 0o700) }},
		{
			name: "refuses a file",
			setup: func(t *testing.T, path string) {
				mkdir(t, filepath.Dir(path), 0o700)
				writeFile(t, filepath.Dir(path), filepath.Base(path), "x", 0o600)
			},
			wantErr: "not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a", "b", "sortie")
			tt.setup(t, path)
			err := EnsureDir(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EnsureDir = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureDir: %v", err)
			}
			check := []string{path}
			if tt.wantParents {
				check = append(check, filepath.Dir(path), filepath.Dir(filepath.Dir(path)))
			}
			for _, p := range check {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s: mode %v, want a directory with 0700", p, fi.Mode())
				}
			}
		})
	}
}

func mkdir(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(path, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // MkdirAll's mode passes through the umask
		t.Fatal(err)
	}
}
