package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"sortie.dev/sortie/internal/auth"
	"sortie.dev/sortie/internal/refusal"
)

// SOCKS5 constants (RFC 1928).
const (
	socks5Version    = 0x05
	methodNoAuth     = 0x00
	methodNoneUsable = 0xFF
	cmdConnect       = 0x01
	atypIPv4         = 0x01
	atypDomain       = 0x03
	atypIPv6         = 0x04
)

var errSOCKS = errors.New("malformed SOCKS handshake")

// serveSOCKS5 serves one SOCKS5 CONNECT. BIND and UDP ASSOCIATE answer "command not supported".
func (s *Server) serveSOCKS5(cc *clientConn) {
	if err := socks5Greeting(cc); err != nil {
		if e := refusal.As(err); e != nil {
			s.observe(KindSOCKS5, e)
			lingerClose(cc.Conn)
			return
		}
		s.observeConn(cc.Conn, KindSOCKS5, refusal.Wrap(refusal.Malformed, "", err))
		return
	}
	t, code, err := readSOCKS5Request(cc.br)
	if err != nil {
		s.observeConn(cc.Conn, KindSOCKS5, refusal.Wrap(refusal.Malformed, "", err))
		if code != 0 {
			s.socks5Fail(cc, code)
		}
		return
	}
	if cc.early != nil {
		s.observe(KindSOCKS5, cc.early)
		s.socks5Fail(cc, answerFor(cc.early.Reason).socks5)
		return
	}
	ctx, cancel := context.WithCancel(cc.ctx)
	defer cancel()
	up, err := s.dial(ctx, t)
	if err != nil {
		e := refusalOf(err)
		s.observe(KindSOCKS5, e)
		s.socks5Fail(cc, answerFor(e.Reason).socks5)
		return
	}
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	if _, err := cc.Write(socks5Reply(socks5OK, up.LocalAddr())); err != nil {
		up.Close()
		return
	}
	s.observe(KindSOCKS5, nil)
	s.startTunnel(cc, up)
}

// socks5Greeting reads the method selection and chooses "no authentication".
func socks5Greeting(cc *clientConn) error {
	var hdr [2]byte
	if _, err := io.ReadFull(cc.br, hdr[:]); err != nil {
		return err
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(cc.br, methods); err != nil {
		return err
	}
	choice := auth.SelectMethod(methods, cc.auth)
	cc.SetWriteDeadline(time.Now().Add(cc.srv.handshakeTimeout()))
	if _, err := cc.Write([]byte{socks5Version, choice}); err != nil {
		return err
	}
	switch choice {
	case auth.MethodNoneAcceptable:
		if cc.auth {
			return refusal.New(refusal.Auth, "")
		}
		return errSOCKS
	case auth.MethodUserPass:
		return cc.srv.socks5UserPass(cc)
	}
	return nil
}

// socks5UserPass runs the RFC 1929 sub-negotiation. On a listener that does not require
// authentication any credentials are accepted (a client may offer only this method).
func (s *Server) socks5UserPass(cc *clientConn) error {
	user, password, err := auth.ReadUserPass(cc.br)
	if err != nil {
		return err
	}
	if cc.auth {
		err = s.authenticate(cc, user, password)
	}
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	if werr := auth.WriteUserPassStatus(cc, err == nil); werr != nil && err == nil {
		err = werr
	}
	return err
}

// readSOCKS5Request reads a request. On error, code is the reply to send (0: send none).
func readSOCKS5Request(r io.Reader) (Target, byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Target{}, 0, err
	}
	if hdr[0] != socks5Version || hdr[2] != 0 {
		return Target{}, socks5Failure, errSOCKS
	}
	host, code, err := readSOCKS5Addr(r, hdr[3])
	if err != nil {
		return Target{}, code, err
	}
	var pb [2]byte
	if _, err := io.ReadFull(r, pb[:]); err != nil {
		return Target{}, 0, err
	}
	port := binary.BigEndian.Uint16(pb[:])
	if hdr[1] != cmdConnect {
		return Target{}, socks5BadCommand, errors.New("SOCKS command not supported")
	}
	if port == 0 {
		return Target{}, socks5NotAllowed, errSOCKS
	}
	return Target{Host: host, Port: port, Kind: KindSOCKS5}, 0, nil
}

func readSOCKS5Addr(r io.Reader, atyp byte) (string, byte, error) {
	switch atyp {
	case atypIPv4:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", 0, err
		}
		return netip.AddrFrom4(b).String(), 0, nil
	case atypIPv6:
		var b [16]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", 0, err
		}
		return addrHost(netip.AddrFrom16(b)), 0, nil
	case atypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return "", 0, err
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(r, name); err != nil {
			return "", 0, err
		}
		if n[0] == 0 {
			return "", socks5HostUnreach, errSOCKS
		}
		return string(name), 0, nil
	}
	return "", socks5BadAddressType, errors.New("SOCKS address type not supported")
}

// socks5Reply builds a reply; bound is the upstream connection's local address, or nil.
func socks5Reply(code byte, bound net.Addr) []byte {
	b := []byte{socks5Version, code, 0, atypIPv4, 0, 0, 0, 0, 0, 0}
	ta, ok := bound.(*net.TCPAddr)
	if !ok {
		return b
	}
	ap := ta.AddrPort()
	a := ap.Addr().Unmap()
	if a.Is6() {
		b = append(b[:3], atypIPv6)
		b = append(b, a.AsSlice()...)
		b = append(b, 0, 0)
	} else if a.Is4() {
		a4 := a.As4()
		copy(b[4:8], a4[:])
	}
	binary.BigEndian.PutUint16(b[len(b)-2:], ap.Port())
	return b
}

// socks5Fail sends a failure reply and closes gracefully.
func (s *Server) socks5Fail(cc *clientConn, code byte) {
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	cc.Write(socks5Reply(code, nil))
	lingerClose(cc.Conn)
}
