package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxUserNameBytes is the longest user name: what a SOCKS5 ULEN can carry (RFC 1929).
const MaxUserNameBytes = 255

// maxUsersFileBytes caps a users file: a hundred thousand users fit.
const maxUsersFileBytes = 16 << 20

// ValidateUserName returns an error when name cannot be a proxy user's name: empty, longer
// than MaxUserNameBytes, holding a colon (RFC 7617 forbids it in a Basic user-id), not
// UTF-8, or holding control characters.
func ValidateUserName(name string) error {
	switch {
	case name == "":
		return errors.New("empty user name")
	case len(name) > MaxUserNameBytes:
		return fmt.Errorf("user name longer than %d bytes", MaxUserNameBytes)
	case strings.Contains(name, ":"):
		return errors.New("user name holds a colon")
	case !validCredential(name):
		return errors.New("user name is not UTF-8 text without control characters")
	}
	return nil
}

// ParseUsersFile reads a users file: one `name:$argon2id$...` per line (the htpasswd
// shape), blank lines and lines starting with # ignored. It checks names and duplicates and
// that each hash parses; strength is New's to judge. Every problem is reported, with its
// line number; hashes never appear in errors.
func ParseUsersFile(r io.Reader) (map[string]string, error) {
	users := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(io.LimitReader(r, maxUsersFileBytes))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := addUserLine(users, line); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("reading the users file: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return users, nil
}

func addUserLine(users map[string]string, line string) error {
	name, phc, ok := strings.Cut(line, ":")
	if !ok {
		return errors.New("want name:$argon2id$...")
	}
	if err := ValidateUserName(name); err != nil {
		return err
	}
	if _, dup := users[name]; dup {
		return fmt.Errorf("user %q listed twice", name)
	}
	if _, err := ParseHash(phc); err != nil {
		return fmt.Errorf("user %q: %w", name, err)
	}
	users[name] = phc
	return nil
}
