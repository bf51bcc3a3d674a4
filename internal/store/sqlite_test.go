package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestSQLiteBackupBeforeMigration(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }
	s, err := Open(ctx, Options{Dir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deliver(ctx, Delivery{Source: SourceImport, Raw: mail(1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.backup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	bak := filepath.Join(dir, "desk.db.v1-20260501T120000.bak")
	fi, err := os.Stat(bak)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", fi.Mode().Perm())
	}
	// The backup is a database of its own holding the message.
	bdir := t.TempDir()
	if err := os.Rename(bak, filepath.Join(bdir, FileName)); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, Options{Dir: bdir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st, _ := b.Stats(ctx); len(st.Intake) != 1 || st.Intake[0].Messages != 1 {
		t.Fatalf("backup holds %+v", st.Intake)
	}
}

func TestOpenNeedsAPlace(t *testing.T) {
	if _, err := Open(ctx, Options{}); err == nil {
		t.Fatal("Open without a directory or DSN succeeded")
	}
	if _, err := Open(ctx, Options{DSN: "host=/nonexistent/socket dbname=x connect_timeout=2"}); err == nil {
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
}
