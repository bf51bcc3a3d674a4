package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadPermissionWarning(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", "s3cret\n", 0o600)
	inline := "version: 1\nmetrics:\n  username: prom\n  password: s3cret\n"
	fromFile := "version: 1\nmetrics:\n  username: prom\n  password_file: pw\n"
	tests := []struct {
		name    string
		content string
		perm    os.FileMode
		want    []string // with the file's path written as FILE
	}{
		{
			name:    "inline secret, world-readable",
			content: inline,
			perm:    0o644,
			want:    []string{"FILE holds a secret inline (metrics.password) and other users may read it (mode 0644): run chmod 600 FILE, or give the secret as metrics.password_file"},
		},
		{
			name:    "inline secret, group-readable",
			content: inline,
			perm:    0o640,
			want:    []string{"FILE holds a secret inline (metrics.password) and other users may read it (mode 0640): run chmod 600 FILE, or give the secret as metrics.password_file"},
		},
		{name: "inline secret, private", content: inline, perm: 0o600},
		{name: "secret from a file, world-readable", content: fromFile, perm: 0o644},
		{name: "no secret, world-readable", content: "version: 1\n", perm: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "sortie.yaml", tt.content, tt.perm)
			c, warnings, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Metrics.Username != "prom" && tt.content != "version: 1\n" {
				t.Errorf("Load did not decode the file: %+v", c.Metrics)
			}
			for i := range warnings {
				warnings[i] = strings.ReplaceAll(warnings[i], path, "FILE")
			}
			if diff := cmp.Diff(tt.want, warnings); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "version: 1\nbogus: 1\n", 0o600)
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "missing file", path: filepath.Join(dir, "none.yaml"), want: "read config: stat DIR/none.yaml: no such file or directory"},
		{name: "directory", path: dir, want: "read config: DIR is not a regular file"},
		{name: "problems name the file", path: bad, want: "DIR/bad.yaml:2: bogus: unknown key; known keys: admin, data_dir, desk, doh, egress, gateway, guard, listeners, log, metrics, notice, policy, resolver, routes, users, users_file, version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, %q", c, w)
			}
			if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadDefaultFile(t *testing.T) {
	path := writeFile(t, t.TempDir(), "sortie.yaml", string(DefaultYAML()), 0o600)
	c, w, err := Load(path)
	if err != nil || w != nil {
		t.Fatalf("Load(default.yaml) = %v, %q", err, w)
	}
	if diff := cmp.Diff(Default(), c, cfgCmp); diff != "" {
		t.Errorf("loading default.yaml differs from Default() (-want +got):\n%s", diff)
	}
}
