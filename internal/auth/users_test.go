package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateUserName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "plain", in: "alice", ok: true},
		{name: "UTF-8", in: "zoë", ok: true},
		{name: "email-like", in: "alice@example.org", ok: true},
		{name: "255 bytes", in: strings.Repeat("a", 255), ok: true},
		{name: "empty", in: ""},
		{name: "256 bytes", in: strings.Repeat("a", 256)},
		{name: "colon", in: "a:b"},
		{name: "newline", in: "a\nb"},
		{name: "invalid UTF-8", in: "a\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateUserName(tc.in); (err == nil) != tc.ok {
				t.Errorf("ValidateUserName = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestParseUsersFile(t *testing.T) {
	a := "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ"
	b := "$argon2id$v=19$m=64,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$6V2kqqGEl9DAVCXLtxrSLg"
	tests := []struct {
		name string
		in   string
		want map[string]string
		errs []string // parts of the error
	}{
		{name: "two users, comments, blank lines, CRLF", in: "# users\n\nalice:" + a + "\r\n  bob:" + b + "  \n",
			want: map[string]string{"alice": a, "bob": b}},
		{name: "empty file", in: "", want: map[string]string{}},
		{name: "every problem with its line", in: "alice:" + a + "\nalice:" + b + "\nnocolon\n:" + a + "\ncarol:hunter2\n",
			errs: []string{"line 2: user \"alice\" listed twice", "line 3: want name:", "line 4: empty user name", "line 5: user \"carol\": not an argon2id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUsersFile(strings.NewReader(tc.in))
			if tc.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("users (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseUsersFile accepted %q", tc.in)
			}
			for _, e := range tc.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error %q does not say %q", err, e)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats a hash field", err)
			}
			if !errors.Is(err, ErrHashFormat) {
				t.Errorf("error does not wrap ErrHashFormat")
			}
		})
	}
}

func TestUsersFileFeedsNew(t *testing.T) {
	in := "alice:" + mustHash(t, "wonderland", cheap) + "\n"
	users, err := ParseUsersFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, users, Options{})
	if ok, err := v.Check(t.Context(), "alice", "wonderland"); !ok || err != nil {
		t.Errorf("Check = %v, %v, want true, nil", ok, err)
	}
}
