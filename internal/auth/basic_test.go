package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func basic(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasic(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		user     string
		password string
		err      error
	}{
		{name: "RFC 7617 example", in: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", user: "Aladdin", password: "open sesame"},
		{name: "RFC 7617 UTF-8 example", in: "Basic dGVzdDoxMjPCow==", user: "test", password: "123\u00a3"},
		{name: "lower-case scheme", in: "basic " + base64.StdEncoding.EncodeToString([]byte("u:p")), user: "u", password: "p"},
		{name: "extra spaces", in: "  Basic   " + base64.StdEncoding.EncodeToString([]byte("u:p")) + " ", user: "u", password: "p"},
		{name: "unpadded", in: "Basic " + base64.RawStdEncoding.EncodeToString([]byte("u:pw")), user: "u", password: "pw"},
		{name: "colon in password", in: basic("u:a:b"), user: "u", password: "a:b"},
		{name: "empty password", in: basic("u:"), user: "u", password: ""},
		{name: "empty user", in: basic(":p"), user: "", password: "p"},
		{name: "no colon", in: basic("user"), err: ErrMalformedCredentials},
		{name: "other scheme", in: "Bearer abc", err: ErrMalformedCredentials},
		{name: "digest", in: `Digest username="u"`, err: ErrMalformedCredentials},
		{name: "scheme only", in: "Basic", err: ErrMalformedCredentials},
		{name: "scheme and space", in: "Basic ", err: ErrMalformedCredentials},
		{name: "empty", in: "", err: ErrMalformedCredentials},
		{name: "bad base64", in: "Basic !!!!", err: ErrMalformedCredentials},
		{name: "url base64", in: "Basic " + base64.URLEncoding.EncodeToString([]byte("u:\xfb\xff")), err: ErrMalformedCredentials},
		{name: "two tokens", in: "Basic dTpw dTpw", err: ErrMalformedCredentials},
		{name: "invalid UTF-8", in: basic("u:\xff\xfe"), err: ErrMalformedCredentials},
		{name: "control character", in: basic("u:a\nb"), err: ErrMalformedCredentials},
		{name: "NUL in user", in: basic("u\x00:p"), err: ErrMalformedCredentials},
		{name: "DEL", in: basic("u:\x7f"), err: ErrMalformedCredentials},
		{name: "C1 control", in: basic("u:\u0085"), err: ErrMalformedCredentials},
		{name: "too long", in: basic("u:" + strings.Repeat("x", MaxCredentialBytes)), err: ErrMalformedCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, password, err := ParseBasic(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseBasic error %v, want %v", err, tc.err)
			}
			if user != tc.user || password != tc.password {
				t.Errorf("ParseBasic = %q, %q, want %q, %q", user, password, tc.user, tc.password)
			}
		})
	}
}

func TestProxyCredentials(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		user   string
		err    error
	}{
		{name: "none", err: ErrNoCredentials},
		{name: "one", values: []string{basic("u:p")}, user: "u"},
		{name: "two", values: []string{basic("u:p"), basic("v:q")}, err: ErrMalformedCredentials},
		{name: "bad", values: []string{"Basic ???"}, err: ErrMalformedCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Authorization": {basic("x:y")}}
			for _, v := range tc.values {
				h.Add("Proxy-Authorization", v)
			}
			user, _, err := ProxyCredentials(h)
			if !errors.Is(err, tc.err) || user != tc.user {
				t.Errorf("ProxyCredentials = %q, %v, want %q, %v", user, err, tc.user, tc.err)
			}
		})
	}
}
