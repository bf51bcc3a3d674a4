package config

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// redacted is what a set Secret prints as, everywhere.
const redacted = "[redacted]"

// maxSecretFileBytes caps what a *_file key may read.
const maxSecretFileBytes = 64 << 10

// Secret holds a secret value (a password, a token). It never prints its value: String,
// GoString, every fmt verb, JSON, text, YAML and slog all give "[redacted]" (or "" when the
// secret is not set, so that `sortie check` shows that no secret is configured). Reveal
// returns the value, for the one place that needs it.
//
// In a configuration file a secret key `password: x` may instead be given as
// `password_file: /path`: the file is read at load time and one trailing newline is
// trimmed. Any struct field of type Secret gets that second key.
type Secret struct {
	value string
}

// NewSecret returns a Secret holding v.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret value. Call it only where the value is used, never to print.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret holds a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

// Matches reports, in time independent of the contents, whether candidate equals the secret.
func (s Secret) Matches(candidate string) bool {
	return subtle.ConstantTimeCompare([]byte(s.value), []byte(candidate)) == 1
}

// Equal reports whether two secrets hold the same value (go-cmp uses it).
func (s Secret) Equal(o Secret) bool { return s.Matches(o.value) }

// String returns "[redacted]", or "" when the secret is not set.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString returns the same as String, so %#v does not reveal the value.
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue makes slog print String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText returns String.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns String as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalYAML returns String.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// readSecretFile reads a *_file secret. A relative path is taken from dir (the config file's
// directory). Only regular files are read (a FIFO or a device would block or never end),
// at most maxSecretFileBytes, and one trailing newline is trimmed.
func readSecretFile(dir, path string) (Secret, error) {
	if path == "" {
		return Secret{}, errors.New("want a file path, got nothing")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Secret{}, fmt.Errorf("cannot read the secret: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Secret{}, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := readLimited(path)
	if err != nil {
		return Secret{}, err
	}
	b = trimNewline(b)
	if len(b) == 0 {
		return Secret{}, fmt.Errorf("%s is empty", path)
	}
	return NewSecret(string(b)), nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret: %w", err)
	}
	if len(b) > maxSecretFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretFileBytes)
	}
	return b, nil
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	b, ok := bytes.CutSuffix(b, []byte("\n"))
	if ok {
		b, _ = bytes.CutSuffix(b, []byte("\r"))
	}
	return b
}
