package auth

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "basic dTpw", "Basic ", "Bearer x", "Basic dTo="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		user, password, err := ParseBasic(in)
		if err != nil {
			return
		}
		if strings.Contains(user, ":") || !utf8.ValidString(user) || !utf8.ValidString(password) {
			t.Fatalf("ParseBasic(%q) = %q, %q: a colon in the user or invalid UTF-8", in, user, password)
		}
		again, pw2, err := ParseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
		if err != nil || again != user || pw2 != password {
			t.Fatalf("re-encoding %q, %q parses as %q, %q, %v", user, password, again, pw2, err)
		}
	})
}

func FuzzReadUserPass(f *testing.F) {
	for _, b := range [][]byte{[]byte("\x01\x05alice\x0awonderland"), {1, 0, 0}, {5, 1, 0}, {1, 255}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		user, password, err := ReadUserPass(r)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteUserPass(&b, user, password); err != nil {
			t.Fatalf("WriteUserPass(read values): %v", err)
		}
		if consumed := in[:len(in)-r.Len()]; !bytes.Equal(b.Bytes(), consumed) {
			t.Fatalf("read %q as %q, %q, which writes back as %q", consumed, user, password, b.Bytes())
		}
	})
}

func FuzzParseHash(f *testing.F) {
	for _, v := range referenceVectors {
		f.Add(v.phc)
	}
	f.Add("$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseHash(in)
		if err != nil {
			return
		}
		if h.String() != in {
			t.Fatalf("ParseHash(%q) prints back as %q", in, h.String())
		}
		if h.Memory > MaxMemory || h.Time > MaxTime || h.Time == 0 || h.Threads == 0 {
			t.Fatalf("ParseHash(%q) accepted out-of-bounds parameters %+v", in, h.Params)
		}
	})
}
