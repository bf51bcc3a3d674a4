package auth

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// SOCKS5 authentication methods (RFC 1928 §3).
const (
	MethodNoAuth         byte = 0x00
	MethodUserPass       byte = 0x02 // RFC 1929
	MethodNoneAcceptable byte = 0xFF
)

// userPassVersion is the version byte of the RFC 1929 sub-negotiation (not 0x05).
const userPassVersion = 0x01

// SelectMethod picks the method to answer a SOCKS5 greeting that offered offered. With
// required, only username/password will do. Without, "no authentication" is preferred, and a
// client that offers only username/password (some do when credentials are configured) gets
// it: the caller then reads the credentials with ReadUserPass and accepts any.
// MethodNoneAcceptable means the caller sends it and closes.
func SelectMethod(offered []byte, required bool) byte {
	switch {
	case !required && slices.Contains(offered, MethodNoAuth):
		return MethodNoAuth
	case slices.Contains(offered, MethodUserPass):
		return MethodUserPass
	}
	return MethodNoneAcceptable
}

// ReadUserPass reads an RFC 1929 username/password request from r:
// VER=0x01, ULEN, UNAME (ULEN bytes), PLEN, PASSWD (PLEN bytes). Lengths of zero are accepted
// (curl sends PLEN 0 for an empty password); the verifier rejects what it does not know. A
// wrong version is ErrMalformedCredentials; a short read is the reader's error. The caller
// bounds the wait with a read deadline.
func ReadUserPass(r io.Reader) (user, password string, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", "", fmt.Errorf("reading the username/password request: %w", err)
	}
	if hdr[0] != userPassVersion {
		return "", "", fmt.Errorf("%w: sub-negotiation version %#02x, want 0x01", ErrMalformedCredentials, hdr[0])
	}
	var buf [255 + 1 + 255]byte
	u := buf[:int(hdr[1])+1] // the user name, then PLEN
	if _, err := io.ReadFull(r, u); err != nil {
		return "", "", fmt.Errorf("reading the username/password request: %w", err)
	}
	plen := u[len(u)-1]
	p := buf[len(u) : len(u)+int(plen)]
	if _, err := io.ReadFull(r, p); err != nil {
		return "", "", fmt.Errorf("reading the username/password request: %w", err)
	}
	return string(u[:len(u)-1]), string(p), nil
}

// WriteUserPassStatus writes the RFC 1929 reply: 01 00 for success, 01 01 for failure. After
// a failure the server must close the connection (RFC 1929 §2).
func WriteUserPassStatus(w io.Writer, ok bool) error {
	status := byte(0x01)
	if ok {
		status = 0x00
	}
	_, err := w.Write([]byte{userPassVersion, status})
	return err
}

// WriteUserPass writes an RFC 1929 request, as a client does (tests and upstream dialers).
func WriteUserPass(w io.Writer, user, password string) error {
	if len(user) > 255 || len(password) > 255 {
		return errors.New("socks5 username and password are at most 255 bytes each")
	}
	b := make([]byte, 0, 3+len(user)+len(password))
	b = append(b, userPassVersion, byte(len(user)))
	b = append(b, user...)
	b = append(b, byte(len(password)))
	b = append(b, password...)
	_, err := w.Write(b)
	return err
}
