package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters of a hash (RFC 9106 §3.1).
type Params struct {
	Memory  uint32 // memory in KiB (the PHC string's m=)
	Time    uint32 // passes over the memory (t=)
	Threads uint8  // lanes (p=)
}

// DefaultParams cost about 60 ms and 64 MiB per check on a 2-core 2020s server: RFC 9106's
// second recommended option (m = 64 MiB, t = 3) with two lanes.
var DefaultParams = Params{Memory: 64 << 10, Time: 3, Threads: 2}

// DefaultMinCost is the weakest memory × time (KiB × passes) a user's hash may have: the
// weakest of OWASP's argon2id configurations (m = 7 MiB, t = 5). m = 19 MiB, t = 2 and
// m = 46 MiB, t = 1 pass; anything cheaper is refused as weak.
const DefaultMinCost = 7168 * 5

// Bounds of a hash Sortie accepts. Above MaxMemory a misconfigured hash could exhaust memory
// once multiplied by the concurrent checks; the others follow RFC 9106 and the PHC format.
const (
	MaxMemory  = 1 << 20 // KiB: 1 GiB
	MaxTime    = 64
	MinSaltLen = 8
	MaxSaltLen = 64
	MinKeyLen  = 16
	MaxKeyLen  = 64
	// SaltLen and KeyLen are what NewHash produces (RFC 9106 recommends 16 and 32 bytes).
	SaltLen = 16
	KeyLen  = 32
)

// Errors of ParseHash and Hash.CheckStrength. Each is wrapped with the detail that failed.
var (
	// ErrHashFormat is returned for a string that is not an argon2id PHC string.
	ErrHashFormat = errors.New("not an argon2id PHC string")
	// ErrHashUnsupported is returned for another algorithm or argon2 version.
	ErrHashUnsupported = errors.New("unsupported password hash")
	// ErrHashWeak is returned for parameters below the minimum cost.
	ErrHashWeak = errors.New("password hash too weak")
)

// Hash is a parsed argon2id hash: the PHC string
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key> with unpadded standard base64.
type Hash struct {
	Params
	Salt []byte
	Key  []byte
}

var b64 = base64.RawStdEncoding.Strict()

// NewHash hashes password with p and a fresh random salt from r (nil means crypto/rand).
func NewHash(password string, p Params, r io.Reader) (Hash, error) {
	if err := p.validate(); err != nil {
		return Hash{}, err
	}
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return Hash{}, fmt.Errorf("reading a salt: %w", err)
	}
	h := Hash{Params: p, Salt: salt}
	h.Key = h.derive(password, KeyLen)
	return h, nil
}

// String returns the PHC string.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Memory, h.Time, h.Threads, b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Cost returns memory × time, the figure CheckStrength compares.
func (p Params) Cost() uint64 { return uint64(p.Memory) * uint64(p.Time) }

// CheckStrength returns an error wrapping ErrHashWeak when the hash costs less than minCost
// (KiB × passes; zero means DefaultMinCost).
func (p Params) CheckStrength(minCost uint64) error {
	if minCost == 0 {
		minCost = DefaultMinCost
	}
	if p.Cost() < minCost {
		return fmt.Errorf("%w: m=%d,t=%d costs %d KiB×passes, the minimum is %d (for example m=65536,t=3)",
			ErrHashWeak, p.Memory, p.Time, p.Cost(), minCost)
	}
	return nil
}

// Verify reports, in time independent of where the keys differ, whether password matches.
func (h Hash) Verify(password string) bool {
	return subtle.ConstantTimeCompare(h.derive(password, len(h.Key)), h.Key) == 1
}

func (h Hash) derive(password string, keyLen int) []byte {
	return argon2.IDKey([]byte(password), h.Salt, h.Time, h.Memory, h.Threads, uint32(keyLen))
}

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("%w: t=%d, want 1 to %d", ErrHashFormat, p.Time, MaxTime)
	case p.Threads < 1:
		return fmt.Errorf("%w: p=0, want 1 to 255", ErrHashFormat)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxMemory:
		return fmt.Errorf("%w: m=%d, want %d to %d KiB", ErrHashFormat, p.Memory, 8*uint32(p.Threads), MaxMemory)
	}
	return nil
}

// ParseHash parses an argon2id PHC string. Other algorithms (argon2i, argon2d, bcrypt,
// scrypt...), other versions, extra parameters and out-of-bounds values are errors that say
// which part is wrong. ParseHash does not judge strength: see Params.CheckStrength.
func ParseHash(s string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) < 2 || parts[0] != "" {
		return Hash{}, fmt.Errorf("%w: it must start with $argon2id$", ErrHashFormat)
	}
	if parts[1] != "argon2id" {
		return Hash{}, fmt.Errorf("%w: algorithm %q, only argon2id is accepted", ErrHashUnsupported, truncate(parts[1]))
	}
	if len(parts) != 6 {
		return Hash{}, fmt.Errorf("%w: want $argon2id$v=19$m=...,t=...,p=...$salt$hash", ErrHashFormat)
	}
	if parts[2] != "v=19" {
		return Hash{}, fmt.Errorf("%w: version %q, only v=19 (argon2 1.3) is accepted", ErrHashUnsupported, truncate(parts[2]))
	}
	p, err := parseParams(parts[3])
	if err != nil {
		return Hash{}, err
	}
	h := Hash{Params: p}
	if h.Salt, err = decodeField("salt", parts[4], MinSaltLen, MaxSaltLen); err != nil {
		return Hash{}, err
	}
	if h.Key, err = decodeField("hash", parts[5], MinKeyLen, MaxKeyLen); err != nil {
		return Hash{}, err
	}
	return h, nil
}

// parseParams parses "m=65536,t=3,p=2", in that order, as the reference implementation
// writes them.
func parseParams(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("%w: parameters %q, want m=...,t=...,p=...", ErrHashFormat, truncate(s))
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, err := parseParam(fields[i], name)
		if err != nil {
			return Params{}, err
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return Params{}, fmt.Errorf("%w: p=%d, want 1 to 255", ErrHashFormat, vals[2])
	}
	if vals[0] > MaxMemory || vals[1] > MaxTime {
		return Params{}, fmt.Errorf("%w: m=%d,t=%d above the bounds m<=%d, t<=%d", ErrHashFormat, vals[0], vals[1], MaxMemory, MaxTime)
	}
	p := Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	return p, p.validate()
}

// parseParam parses "name=decimal" without sign or leading zeros (the PHC rules).
func parseParam(field, name string) (uint64, error) {
	digits, ok := strings.CutPrefix(field, name+"=")
	bad := !ok || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0')
	v, err := strconv.ParseUint(digits, 10, 64)
	if bad || err != nil {
		return 0, fmt.Errorf("%w: parameter %q, want %s=<decimal>", ErrHashFormat, truncate(field), name)
	}
	return v, nil
}

func decodeField(name, s string, minLen, maxLen int) ([]byte, error) {
	if len(s) > b64.EncodedLen(maxLen) {
		return nil, fmt.Errorf("%w: %s longer than %d bytes", ErrHashFormat, name, maxLen)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded standard base64", ErrHashFormat, name)
	}
	if len(b) < minLen {
		return nil, fmt.Errorf("%w: %s of %d bytes, want at least %d", ErrHashFormat, name, len(b), minLen)
	}
	return b, nil
}

// truncate shortens a quoted fragment of a bad hash so that an error never carries a whole
// secret-looking string.
func truncate(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
