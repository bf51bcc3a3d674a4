package auth

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestSelectMethod(t *testing.T) {
	tests := []struct {
		name     string
		offered  []byte
		required bool
		want     byte
	}{
		{name: "no auth offered, not required", offered: []byte{0x00}, want: MethodNoAuth},
		{name: "both offered, not required", offered: []byte{0x02, 0x00}, want: MethodNoAuth},
		{name: "only user/pass offered, not required", offered: []byte{0x02}, want: MethodUserPass},
		{name: "both offered, required", offered: []byte{0x00, 0x02}, required: true, want: MethodUserPass},
		{name: "no auth offered, required", offered: []byte{0x00}, required: true, want: MethodNoneAcceptable},
		{name: "GSSAPI only", offered: []byte{0x01}, want: MethodNoneAcceptable},
		{name: "nothing offered", want: MethodNoneAcceptable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SelectMethod(tc.offered, tc.required); got != tc.want {
				t.Errorf("SelectMethod = %#02x, want %#02x", got, tc.want)
			}
		})
	}
}

func TestReadUserPass(t *testing.T) {
	long := strings.Repeat("u", 255)
	tests := []struct {
		name     string
		in       []byte
		user     string
		password string
		err      error
		rest     int // bytes left unread
	}{
		{name: "curl", in: []byte("\x01\x05alice\x0awonderland"), user: "alice", password: "wonderland"},
		{name: "empty password", in: []byte("\x01\x01u\x00"), user: "u"},
		{name: "empty user", in: []byte("\x01\x00\x01p"), password: "p"},
		{name: "255-byte fields", in: []byte("\x01\xff" + long + "\xff" + long), user: long, password: long},
		{name: "request follows", in: []byte("\x01\x01u\x01p\x05\x01\x00"), user: "u", password: "p", rest: 3},
		{name: "SOCKS version byte", in: []byte("\x05\x01u\x01p"), err: ErrMalformedCredentials},
		{name: "empty", in: nil, err: io.EOF},
		{name: "short user", in: []byte("\x01\x05ali"), err: io.ErrUnexpectedEOF},
		{name: "no PLEN", in: []byte("\x01\x01u"), err: io.ErrUnexpectedEOF},
		{name: "short password", in: []byte("\x01\x01u\x05pa"), err: io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.in)
			user, password, err := ReadUserPass(iotest.OneByteReader(r))
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadUserPass error %v, want %v", err, tc.err)
			}
			if user != tc.user || password != tc.password {
				t.Errorf("ReadUserPass = %q, %q, want %q, %q", user, password, tc.user, tc.password)
			}
			if tc.err == nil && r.Len() != tc.rest {
				t.Errorf("%d bytes left unread, want %d", r.Len(), tc.rest)
			}
		})
	}
}

func TestUserPassWire(t *testing.T) {
	var b bytes.Buffer
	if err := WriteUserPass(&b, "alice", "wonderland"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]byte("\x01\x05alice\x0awonderland"), b.Bytes()); diff != "" {
		t.Errorf("WriteUserPass (-want +got):\n%s", diff)
	}
	if err := WriteUserPass(io.Discard, strings.Repeat("u", 256), ""); err == nil {
		t.Errorf("WriteUserPass accepted a 256-byte user name")
	}
	for _, tc := range []struct {
		ok   bool
		want []byte
	}{{ok: true, want: []byte{1, 0}}, {ok: false, want: []byte{1, 1}}} {
		b.Reset()
		if err := WriteUserPassStatus(&b, tc.ok); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, b.Bytes()); diff != "" {
			t.Errorf("WriteUserPassStatus(%v) (-want +got):\n%s", tc.ok, diff)
		}
	}
}
