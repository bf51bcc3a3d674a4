// Package proxyproto reads the PROXY protocol header (versions 1 and 2, as HAProxy sends them)
// that a front end puts before a client's bytes, so that a listener behind it learns the real
// source address. Headers are accepted only from trusted front ends; the header is read with
// a deadline, and exactly (version 2) or with the few bytes read past it served first (version
// 1), so the raw TCP connection can still be spliced once those bytes are consumed.
package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// Header is a parsed PROXY header.
type Header struct {
	// Local is true for a v2 LOCAL command, a v1 UNKNOWN line, or an address family other
	// than TCP over IPv4 or IPv6: the front end speaks for itself (a health check), and the
	// connection's own peer address stands.
	Local bool
	// Source and Dest are the client's address and the address it reached on the front end;
	// valid only when Local is false.
	Source, Dest netip.AddrPort
}

// Errors returned by the parsers; the Conn's handshake wraps them.
var (
	ErrMalformed = errors.New("proxyproto: malformed header")
	ErrNoHeader  = errors.New("proxyproto: no PROXY header from a trusted front end")
	ErrTooLong   = errors.New("proxyproto: header too long")
)

// Sizes of the protocol.
const (
	v1MaxLen    = 107 // "PROXY TCP6 " + two full IPv6 + two ports + CRLF, by the spec
	v2FixedLen  = 16
	MaxV2Length = 2048 // the largest v2 address-and-TLV block accepted
)

var (
	v1Prefix = []byte("PROXY ")
	v2Sig    = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// parseV1 parses a v1 line, CRLF included (line must end there).
func parseV1(line []byte) (Header, error) {
	if len(line) > v1MaxLen || !bytes.HasPrefix(line, v1Prefix) || !bytes.HasSuffix(line, []byte("\r\n")) {
		return Header{}, ErrMalformed
	}
	f := bytes.Split(line[len(v1Prefix):len(line)-2], []byte(" "))
	if string(f[0]) == "UNKNOWN" {
		return Header{Local: true}, nil
	}
	if len(f) != 5 || (string(f[0]) != "TCP4" && string(f[0]) != "TCP6") {
		return Header{}, ErrMalformed
	}
	src, err1 := netip.ParseAddr(string(f[1]))
	dst, err2 := netip.ParseAddr(string(f[2]))
	sp, ok1 := parsePort(f[3])
	dp, ok2 := parsePort(f[4])
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return Header{}, ErrMalformed
	}
	want4 := string(f[0]) == "TCP4"
	if src.Is4() != want4 || dst.Is4() != want4 || src.Zone() != "" || dst.Zone() != "" {
		return Header{}, ErrMalformed
	}
	return Header{Source: netip.AddrPortFrom(src, sp), Dest: netip.AddrPortFrom(dst, dp)}, nil
}

// parsePort reads a decimal port 0..65535 without sign, spaces or leading zeros.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(b), 10, 16)
	return uint16(n), err == nil
}

// v2Length returns the length of the address block announced by a v2 fixed header.
func v2Length(fixed []byte) (int, error) {
	if len(fixed) != v2FixedLen || !bytes.Equal(fixed[:12], v2Sig) || fixed[12]>>4 != 2 {
		return 0, ErrMalformed
	}
	n := int(binary.BigEndian.Uint16(fixed[14:]))
	if n > MaxV2Length {
		return 0, ErrTooLong
	}
	return n, nil
}

// parseV2 parses a v2 header: the 16 fixed bytes, then the address block (TLVs ignored).
func parseV2(fixed, block []byte) (Header, error) {
	n, err := v2Length(fixed)
	if err != nil {
		return Header{}, err
	}
	if len(block) != n {
		return Header{}, ErrMalformed
	}
	switch fixed[12] & 0x0f {
	case 0x0: // LOCAL
		return Header{Local: true}, nil
	case 0x1: // PROXY
	default:
		return Header{}, ErrMalformed
	}
	switch fixed[13] {
	case 0x11: // TCP over IPv4
		if n < 12 {
			return Header{}, ErrMalformed
		}
		return Header{
			Source: netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[0:4])), binary.BigEndian.Uint16(block[8:])),
			Dest:   netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[4:8])), binary.BigEndian.Uint16(block[10:])),
		}, nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return Header{}, ErrMalformed
		}
		return Header{
			Source: netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[0:16])), binary.BigEndian.Uint16(block[32:])),
			Dest:   netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[16:32])), binary.BigEndian.Uint16(block[34:])),
		}, nil
	}
	// UNSPEC, UDP or UNIX: nothing a TCP gateway can key on.
	return Header{Local: true}, nil
}

// AppendV1 appends h as a v1 line (for front ends in tests, and for round trips).
func (h Header) AppendV1(b []byte) []byte {
	if h.Local || !h.Source.IsValid() || !h.Dest.IsValid() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	proto := "TCP6"
	if h.Source.Addr().Is4() {
		proto = "TCP4"
	}
	b = append(b, "PROXY "+proto+" "...)
	b = h.Source.Addr().AppendTo(b)
	b = append(b, ' ')
	b = h.Dest.Addr().AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Source.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Dest.Port()), 10)
	return append(b, "\r\n"...)
}

// AppendV2 appends h as a v2 header without TLVs.
func (h Header) AppendV2(b []byte) []byte {
	b = append(b, v2Sig...)
	if h.Local || !h.Source.IsValid() || !h.Dest.IsValid() {
		return append(b, 0x20, 0x00, 0, 0)
	}
	if h.Source.Addr().Is4() {
		b = append(b, 0x21, 0x11, 0, 12)
		b = append(b, h.Source.Addr().AsSlice()...)
		b = append(b, h.Dest.Addr().AsSlice()...)
	} else {
		b = append(b, 0x21, 0x21, 0, 36)
		s, d := h.Source.Addr().As16(), h.Dest.Addr().As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, h.Source.Port())
	return binary.BigEndian.AppendUint16(b, h.Dest.Port())
}
