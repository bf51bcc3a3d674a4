package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// makeMaildir creates a Maildir with the given files in new/ and cur/.
func makeMaildir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func msg(n string) string {
	return "From: reports@example.net\r\nSubject: report " + n + "\r\n\r\nAbuse from 203.0.113.7\r\n"
}

func TestMaildirListReadMarkSeen(t *testing.T) {
	dir := makeMaildir(t, map[string]string{
		"new/1700000003.M3P1.host.example":      msg("3"),
		"new/1700000001.M1P1.host.example":      msg("1"),
		"new/1700000002.M2P1.host.example":      msg("2"),
		"new/.hidden":                           "not mail",
		"tmp/1700000009.M9P1.host.example":      "being written",
		"cur/1690000000.M0P1.host.example:2,RS": msg("0"),
	})
	if err := os.Mkdir(filepath.Join(dir, "new", "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	md, err := OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()

	got, err := md.List(New, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1700000001.M1P1.host.example", "1700000002.M2P1.host.example"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List(new, 2) (-want +got):\n%s", diff)
	}
	if n, err := md.Count(New); err != nil || n != 3 {
		t.Errorf("Count(new) = %d, %v; want 3", n, err)
	}
	if n, err := md.Count(Cur); err != nil || n != 1 {
		t.Errorf("Count(cur) = %d, %v; want 1", n, err)
	}

	raw, mod, err := md.Read(New, want[0], 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != msg("1") {
		t.Errorf("Read = %q, want %q", raw, msg("1"))
	}
	if time.Since(mod) > time.Hour {
		t.Errorf("modification time %v is not the file's", mod)
	}
	if _, _, err := md.Read(New, want[0], 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read over the cap: %v, want ErrTooLarge", err)
	}

	seen, err := md.MarkSeen(want[0])
	if err != nil {
		t.Fatal(err)
	}
	if seen != want[0]+":2,S" {
		t.Errorf("MarkSeen name %q", seen)
	}
	if _, err := os.Stat(filepath.Join(dir, "new", want[0])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("message still in new/: %v", err)
	}
	if raw, _, err := md.Read(Cur, seen, 1<<20); err != nil || string(raw) != msg("1") {
		t.Errorf("Read(cur) after MarkSeen = %q, %v", raw, err)
	}
	if _, err := md.MarkSeen(want[0]); err == nil {
		t.Error("MarkSeen of a message no longer in new/ succeeded")
	}
}

func TestMaildirRefusesBadNames(t *testing.T) {
	dir := makeMaildir(t, nil)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte(msg("x")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "new", "escape")); err != nil {
		t.Fatal(err)
	}
	md, err := OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	for _, name := range []string{"../../etc/passwd", ".hidden", "", "a/b", "escape"} {
		if _, _, err := md.Read(New, name, 1<<20); err == nil {
			t.Errorf("Read(new, %q) succeeded", name)
		}
	}
	if _, _, err := md.Read("tmp", "x", 1<<20); err == nil {
		t.Error("Read of tmp/ succeeded")
	}
	if _, err := md.MarkSeen("../x"); err == nil {
		t.Error("MarkSeen(../x) succeeded")
	}
	if n, _ := md.Count(New); n != 0 {
		t.Errorf("a symlink counted as a message: %d", n)
	}
}

func TestMaildirFIFODoesNotBlock(t *testing.T) {
	dir := makeMaildir(t, nil)
	if err := syscall.Mkfifo(filepath.Join(dir, "new", "1.fifo.example"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	md, err := OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	if n, _ := md.Count(New); n != 0 {
		t.Errorf("a FIFO counted as a message")
	}
	done := make(chan error, 1)
	go func() { _, _, err := md.Read(New, "1.fifo.example", 100); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Read of a FIFO succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read of a FIFO blocked")
	}
}

func TestOpenMaildirNeedsSubdirectories(t *testing.T) {
	if _, err := OpenMaildir(t.TempDir()); err == nil {
		t.Error("OpenMaildir of an empty directory succeeded")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	md, err := OpenMaildir(dir)
	if err != nil {
		t.Fatalf("Maildir with cur/ only: %v", err)
	}
	defer md.Close()
	if n, err := md.Count(New); err != nil || n != 0 {
		t.Errorf("Count of a missing new/ = %d, %v", n, err)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, unique, seen string
		valid              bool
	}{
		{name: "1700000000.M1P2.host", unique: "1700000000.M1P2.host", seen: "1700000000.M1P2.host:2,S", valid: true},
		{name: "1700000000.M1P2.host:2,", unique: "1700000000.M1P2.host", seen: "1700000000.M1P2.host:2,S", valid: true},
		{name: "u:2,RF", unique: "u", seen: "u:2,FRS", valid: true},
		{name: "u:2,SS", unique: "u", seen: "u:2,S", valid: true},
		{name: "u:2,a-Z", unique: "u", seen: "u:2,SZa", valid: true},
		{name: "u:1,experimental", unique: "u", seen: "u:2,S", valid: true},
		{name: ".dot", unique: ".dot", seen: ".dot:2,S"},
		{name: "a/b", unique: "a/b", seen: "a/b:2,S"},
		{name: "", unique: "", seen: ":2,S"},
	}
	for _, tt := range tests {
		if got := Unique(tt.name); got != tt.unique {
			t.Errorf("Unique(%q) = %q, want %q", tt.name, got, tt.unique)
		}
		if got := SeenName(tt.name); got != tt.seen {
			t.Errorf("SeenName(%q) = %q, want %q", tt.name, got, tt.seen)
		}
		if got := ValidName(tt.name); got != tt.valid {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.valid)
		}
	}
}
