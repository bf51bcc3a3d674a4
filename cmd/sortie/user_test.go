package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/auth"
)

// runUserHash runs `sortie user hash args...` with stdin and returns stdout, stderr and the
// error.
func runUserHash(stdin string, args ...string) (string, string, error) {
	cmd := userCmd()
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"hash"}, args...))
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestUserHash(t *testing.T) {
	// m=8 MiB, t=5 is the cheapest accepted shape: fast enough for a test.
	cheapFlags := []string{"--memory", "8", "--time", "5", "--threads", "1"}
	cheap := auth.Params{Memory: 8 << 10, Time: 5, Threads: 1}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		password string
		params   auth.Params
		err      string
	}{
		{name: "piped line", stdin: "correct horse\n", args: cheapFlags, password: "correct horse", params: cheap},
		{name: "CRLF", stdin: "pw\r\n", args: cheapFlags, password: "pw", params: cheap},
		{name: "no newline", stdin: "pw", args: cheapFlags, password: "pw", params: cheap},
		{name: "first line only", stdin: "pw\nsecond\n", args: cheapFlags, password: "pw", params: cheap},
		{name: "UTF-8 and spaces kept", stdin: " pässwörd \n", args: cheapFlags, password: " pässwörd ", params: cheap},
		{name: "defaults", stdin: "pw\n", password: "pw", params: auth.DefaultParams},
		{name: "empty", stdin: "\n", args: cheapFlags, err: "empty password"},
		{name: "nothing", stdin: "", args: cheapFlags, err: "empty password"},
		{name: "too long", stdin: strings.Repeat("x", 5000), args: cheapFlags, err: "longer than"},
		{name: "weak", stdin: "pw\n", args: []string{"--memory", "8", "--time", "1"}, err: "too weak"},
		{name: "too much memory", stdin: "pw\n", args: []string{"--memory", "4096"}, err: "limit"},
		{name: "no threads", stdin: "pw\n", args: []string{"--threads", "0"}, err: "p=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runUserHash(tc.stdin, tc.args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				if out != "" {
					t.Errorf("printed %q on failure, want nothing", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("output %q, want one line", out)
			}
			h, err := auth.ParseHash(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			if diff := cmp.Diff(tc.params, h.Params); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if !h.Verify(tc.password) || h.Verify(tc.password+"x") {
				t.Errorf("the hash does not verify exactly %q", tc.password)
			}
		})
	}
}

func TestUserHashWarnsAboutLongSOCKSPassword(t *testing.T) {
	_, stderr, err := runUserHash(strings.Repeat("x", 300)+"\n", "--memory", "8", "--time", "5", "--threads", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "SOCKS5") {
		t.Errorf("stderr %q, want a note that SOCKS5 cannot carry it", stderr)
	}
}
