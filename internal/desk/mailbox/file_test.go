package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	md := makeMaildir(t, nil)
	plain := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want Kind
	}{
		{name: "maildir", path: md, want: KindMaildir},
		{name: "mbox", path: write("inbox.mbox", "From x Sat Jan  3 10:00:00 2026\nS: 1\n\nb\n"), want: KindMbox},
		{name: "message", path: write("one.eml", msg("1")), want: KindMessage},
		{name: "From: header is a message", path: write("from.eml", "From: a@example.org\n\nb\n"), want: KindMessage},
		{name: "short file", path: write("short", "From"), want: KindMessage},
		{name: "empty file", path: write("empty", ""), want: KindMessage},
		{name: "directory without cur or new", path: plain},
		{name: "missing", path: filepath.Join(dir, "missing")},
		{name: "fifo", path: fifo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.path)
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("Detect = %v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestReadMessage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "one.eml")
	if err := os.WriteFile(p, []byte(msg("1")), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _, err := ReadMessage(p, 1<<20)
	if err != nil || string(raw) != msg("1") {
		t.Fatalf("ReadMessage = %q, %v", raw, err)
	}
	if _, _, err := ReadMessage(p, 8); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadMessage over the cap: %v, want ErrTooLarge", err)
	}
	if _, _, err := ReadMessage(filepath.Dir(p), 1<<20); err == nil {
		t.Fatal("ReadMessage of a directory succeeded")
	}
}
