package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cheap are argon2id parameters that cost well under a millisecond, for tests.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// Vectors from the reference implementation's CLI (Debian argon2 0~20171227):
// echo -n PASSWORD | argon2 SALT -id -t T -m LOG2(KiB) -p P -l LEN -e
var referenceVectors = []struct {
	name     string
	password string
	phc      string
}{
	{name: "ascii", password: "correct horse", phc: "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ"},
	{name: "utf-8, two lanes, 16-byte key", password: "pässwörd", phc: "$argon2id$v=19$m=64,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$6V2kqqGEl9DAVCXLtxrSLg"},
}

func TestReferenceVectors(t *testing.T) {
	for _, tc := range referenceVectors {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHash(tc.phc)
			if err != nil {
				t.Fatalf("ParseHash: %v", err)
			}
			if got := h.String(); got != tc.phc {
				t.Errorf("String() = %q, want %q", got, tc.phc)
			}
			if !h.Verify(tc.password) {
				t.Errorf("Verify(right password) = false, want true")
			}
			if h.Verify(tc.password + "x") {
				t.Errorf("Verify(wrong password) = true, want false")
			}
		})
	}
}

func TestNewHashRoundTrip(t *testing.T) {
	salt := bytes.NewReader(bytes.Repeat([]byte{7}, SaltLen))
	h, err := NewHash("hunter2", cheap, salt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.String(), "$argon2id$v=19$m=64,t=1,p=1$BwcHBwcHBwcHBwcHBwcHBw$") {
		t.Errorf("String() = %q, want the PHC prefix with the given salt", h.String())
	}
	back, err := ParseHash(h.String())
	if err != nil {
		t.Fatalf("ParseHash(String()): %v", err)
	}
	if diff := cmp.Diff(h, back); diff != "" {
		t.Errorf("round trip (-made +parsed):\n%s", diff)
	}
	if len(back.Key) != KeyLen {
		t.Errorf("key length %d, want %d", len(back.Key), KeyLen)
	}
	if !back.Verify("hunter2") || back.Verify("hunter3") {
		t.Errorf("Verify does not tell the right password from a wrong one")
	}
}

func TestNewHashSaltsDiffer(t *testing.T) {
	a, err := NewHash("same", cheap, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewHash("same", cheap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.String() == b.String() {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
}

func TestNewHashRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 15, Time: 1, Threads: 2},
		{Memory: MaxMemory + 1, Time: 1, Threads: 1},
		{Memory: 64, Time: MaxTime + 1, Threads: 1},
	} {
		if _, err := NewHash("x", p, nil); !errors.Is(err, ErrHashFormat) {
			t.Errorf("NewHash(%+v) error %v, want ErrHashFormat", p, err)
		}
	}
}

func TestParseHashErrors(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0MTIzNA", "+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ"
	tests := []struct {
		name string
		in   string
		want error
		text string // part of the message
	}{
		{name: "empty", in: "", want: ErrHashFormat, text: "start with $argon2id$"},
		{name: "plain password", in: "hunter2", want: ErrHashFormat},
		{name: "argon2i", in: "$argon2i$v=19$m=1024,t=2,p=1$" + salt + "$" + key, want: ErrHashUnsupported, text: `"argon2i"`},
		{name: "argon2d", in: "$argon2d$v=19$m=1024,t=2,p=1$" + salt + "$" + key, want: ErrHashUnsupported},
		{name: "bcrypt", in: "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", want: ErrHashUnsupported, text: "only argon2id"},
		{name: "scrypt", in: "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", want: ErrHashUnsupported},
		{name: "version 16", in: "$argon2id$v=16$m=1024,t=2,p=1$" + salt + "$" + key, want: ErrHashUnsupported, text: "v=19"},
		{name: "no version", in: "$argon2id$m=1024,t=2,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "params out of order", in: "$argon2id$v=19$t=2,m=1024,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "extra param", in: "$argon2id$v=19$m=1024,t=2,p=1,keyid=x$" + salt + "$" + key, want: ErrHashFormat},
		{name: "leading zero", in: "$argon2id$v=19$m=01024,t=2,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "sign", in: "$argon2id$v=19$m=+1024,t=2,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "t zero", in: "$argon2id$v=19$m=1024,t=0,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "p too big", in: "$argon2id$v=19$m=1024,t=2,p=256$" + salt + "$" + key, want: ErrHashFormat},
		{name: "memory too big", in: "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, want: ErrHashFormat},
		{name: "memory under 8p", in: "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key, want: ErrHashFormat},
		{name: "padded salt", in: "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "==$" + key, want: ErrHashFormat, text: "salt"},
		{name: "short salt", in: "$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$" + key, want: ErrHashFormat, text: "salt of 4 bytes"},
		{name: "short key", in: "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$c2FsdA", want: ErrHashFormat, text: "hash of 4 bytes"},
		{name: "missing key", in: "$argon2id$v=19$m=1024,t=2,p=1$" + salt, want: ErrHashFormat},
		{name: "trailing field", in: "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$" + key + "$", want: ErrHashFormat},
		{name: "url base64", in: "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$-lmmYt2z4ZMrLKIaiYmx1n_yv76miDs89Dh8Mz4LByQ", want: ErrHashFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHash(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseHash error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not say %q", err, tc.text)
			}
		})
	}
}

func TestCheckStrength(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		minCost uint64
		weak    bool
	}{
		{name: "default params", p: DefaultParams},
		{name: "OWASP m=19MiB t=2", p: Params{Memory: 19456, Time: 2, Threads: 1}},
		{name: "OWASP m=46MiB t=1", p: Params{Memory: 47104, Time: 1, Threads: 1}},
		{name: "OWASP m=7MiB t=5", p: Params{Memory: 7168, Time: 5, Threads: 1}},
		{name: "m=19MiB t=1", p: Params{Memory: 19456, Time: 1, Threads: 1}, weak: true},
		{name: "test params", p: cheap, weak: true},
		{name: "test params, lowered minimum", p: cheap, minCost: 1},
		{name: "raised minimum", p: DefaultParams, minCost: 1 << 20, weak: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckStrength(tc.minCost)
			if got := errors.Is(err, ErrHashWeak); got != tc.weak {
				t.Errorf("CheckStrength(%d) = %v, want weak %v", tc.minCost, err, tc.weak)
			}
		})
	}
}
