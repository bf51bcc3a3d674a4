package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Errors of the credential parsers.
var (
	// ErrNoCredentials: the client sent none (no Proxy-Authorization header). Answer 407.
	ErrNoCredentials = errors.New("no credentials")
	// ErrMalformedCredentials: the client sent credentials that do not parse, or another
	// scheme than Basic. Answer 407 (HTTP) or close (SOCKS5), and count a failure.
	ErrMalformedCredentials = errors.New("malformed credentials")
)

// MaxCredentialBytes caps a Basic credential's encoded length. Real ones are far shorter;
// the cap keeps a hostile header from costing more than a parse.
const MaxCredentialBytes = 2048

// Challenge is the Proxy-Authenticate value of a 407 (RFC 7617 §2.1: the client should
// send UTF-8).
const Challenge = `Basic realm="sortie", charset="UTF-8"`

// ProxyCredentials returns the user and password of the request's Proxy-Authorization
// header. No header is ErrNoCredentials; several headers, another scheme or a bad value
// are ErrMalformedCredentials. The caller must still remove the header before forwarding.
func ProxyCredentials(h http.Header) (user, password string, err error) {
	values := h.Values("Proxy-Authorization")
	switch len(values) {
	case 0:
		return "", "", ErrNoCredentials
	case 1:
		return ParseBasic(values[0])
	}
	return "", "", ErrMalformedCredentials
}

// ParseBasic parses a Basic credential, `Basic <base64 of user-id:password>` (RFC 7617):
// the scheme is case-insensitive, the base64 is standard with padding (unpadded is
// tolerated), the user-id ends at the first colon, both parts are UTF-8 without control
// characters.
func ParseBasic(value string) (user, password string, err error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", ErrMalformedCredentials
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || len(token) > MaxCredentialBytes {
		return "", "", ErrMalformedCredentials
	}
	raw, err := decodeToken(token)
	if err != nil {
		return "", "", ErrMalformedCredentials
	}
	user, password, ok = strings.Cut(string(raw), ":")
	if !ok || !validCredential(user) || !validCredential(password) {
		return "", "", ErrMalformedCredentials
	}
	return user, password, nil
}

func decodeToken(token string) ([]byte, error) {
	if strings.HasSuffix(token, "=") || len(token)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(token)
	}
	return base64.RawStdEncoding.Strict().DecodeString(token)
}

// validCredential reports UTF-8 text without control characters (RFC 7617 §2).
func validCredential(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
