package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v4"
)

const testSecret = "hunter2-s3cr3t"

func TestSecretRedactedEverywhere(t *testing.T) {
	s := NewSecret(testSecret)
	m := Metrics{Username: "prom", Password: s}
	printers := []struct {
		name  string
		print func() (string, error)
	}{
		{name: "String", print: func() (string, error) { return s.String(), nil }},
		{name: "GoString", print: func() (string, error) { return s.GoString(), nil }},
		{name: "%v", print: func() (string, error) { return fmt.Sprintf("%v", s), nil }},
		{name: "%+v", print: func() (string, error) { return fmt.Sprintf("%+v", s), nil }},
		{name: "%#v", print: func() (string, error) { return fmt.Sprintf("%#v", s), nil }},
		{name: "%s", print: func() (string, error) { return fmt.Sprintf("%s", s), nil }},
		{name: "%q", print: func() (string, error) { return fmt.Sprintf("%q", s), nil }},
		{name: "%x", print: func() (string, error) { return fmt.Sprintf("%x", s), nil }},
		{name: "%d", print: func() (string, error) { return fmt.Sprintf("%d", s), nil }},
		{name: "parent %+v", print: func() (string, error) { return fmt.Sprintf("%+v", m), nil }},
		{name: "parent %#v", print: func() (string, error) { return fmt.Sprintf("%#v", m), nil }},
		{name: "pointer %v", print: func() (string, error) { return fmt.Sprintf("%v", &m), nil }},
		{name: "json", print: func() (string, error) { b, err := json.Marshal(m); return string(b), err }},
		{name: "text", print: func() (string, error) { b, err := s.MarshalText(); return string(b), err }},
		{name: "yaml", print: func() (string, error) { b, err := yaml.Dump(m); return string(b), err }},
		{name: "slog", print: func() (string, error) {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "password", s, "metrics", m)
			return buf.String(), nil
		}},
		{name: "config Marshal", print: func() (string, error) {
			c := Default()
			c.Metrics = m
			b, err := c.Marshal()
			return string(b), err
		}},
	}
	for _, p := range printers {
		t.Run(p.name, func(t *testing.T) {
			got, err := p.print()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, testSecret) || strings.Contains(got, fmt.Sprintf("%x", testSecret)) {
				t.Errorf("printed the secret: %s", got)
			}
			if !strings.Contains(got, "[redacted]") {
				t.Errorf("got %q, want it to contain [redacted]", got)
			}
		})
	}
}

func TestSecretUnset(t *testing.T) {
	var s Secret
	if got := fmt.Sprintf("%v|%s|%#v", s, s, s); got != "||" {
		t.Errorf("unset secret printed %q, want empty", got)
	}
	if s.IsSet() || NewSecret("").IsSet() {
		t.Errorf("IsSet() = true for an empty secret")
	}
}

func TestSecretMatches(t *testing.T) {
	s := NewSecret(testSecret)
	tests := []struct {
		name      string
		candidate string
		want      bool
	}{
		{name: "same", candidate: testSecret, want: true},
		{name: "other", candidate: "hunter3-s3cr3t", want: false},
		{name: "prefix", candidate: "hunter2", want: false},
		{name: "empty", candidate: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Matches(tt.candidate); got != tt.want {
				t.Errorf("Matches() = %v, want %v", got, tt.want)
			}
			if got := s.Reveal() == tt.candidate; got != tt.want {
				t.Errorf("Reveal() == candidate is %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", testSecret+"\n", 0o600)
	writeFile(t, dir, "pw-crlf", testSecret+"\r\n", 0o600)
	writeFile(t, dir, "pw-two-newlines", testSecret+"\n\n", 0o600)
	writeFile(t, dir, "empty", "\n", 0o600)
	name := filepath.Join(dir, "sortie.yaml")
	head := "version: 1\nmetrics:\n  username: prom\n"
	tests := []struct {
		name    string
		yaml    string
		want    string   // the revealed password, when the parse succeeds
		wantErr []string // problems, with the test directory written as DIR
	}{
		{name: "inline", yaml: head + "  password: " + testSecret + "\n", want: testSecret},
		{name: "file absolute", yaml: head + "  password_file: " + filepath.Join(dir, "pw") + "\n", want: testSecret},
		{name: "file relative to the config", yaml: head + "  password_file: pw\n", want: testSecret},
		{name: "file with CRLF", yaml: head + "  password_file: pw-crlf\n", want: testSecret},
		{name: "only one newline trimmed", yaml: head + "  password_file: pw-two-newlines\n", want: testSecret + "\n"},
		{
			name:    "both",
			yaml:    head + "  password: x\n  password_file: pw\n",
			wantErr: []string{"DIR/sortie.yaml:5: metrics.password: give password or password_file, not both"},
		},
		{
			name:    "file missing",
			yaml:    head + "  password_file: nope\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password_file: cannot read the secret: stat DIR/nope: no such file or directory"},
		},
		{
			name:    "file empty",
			yaml:    head + "  password_file: empty\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password_file: DIR/empty is empty"},
		},
		{
			name:    "file is a directory",
			yaml:    head + "  password_file: .\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password_file: DIR is not a regular file"},
		},
		{
			name:    "file key without a path",
			yaml:    head + "  password_file:\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password_file: want a file path, got nothing"},
		},
		{
			name:    "password is a list",
			yaml:    head + "  password: [a]\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password: want a string, got a list"},
		},
		{
			name:    "pasted from sortie check",
			yaml:    head + "  password: '[redacted]'\n",
			wantErr: []string{"DIR/sortie.yaml:4: metrics.password: is the placeholder [redacted] that sortie check prints: give the real secret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), name)
			if tt.wantErr != nil {
				got := strings.ReplaceAll(fmt.Sprint(err), dir, "DIR")
				if diff := cmp.Diff(tt.wantErr, strings.Split(got, "\n")); diff != "" {
					t.Errorf("errors mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Metrics.Password.Reveal(); got != tt.want {
				t.Errorf("password = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecretFileRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readSecretFile(dir, "fifo")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("readSecretFile(fifo) = %v, want a not-a-regular-file error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readSecretFile blocked on a FIFO")
	}
}
