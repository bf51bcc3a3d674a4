package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// maxSOCKS4Field bounds the user id and the SOCKS4a host name.
const maxSOCKS4Field = 255

// serveSOCKS4 serves one SOCKS4 or SOCKS4a CONNECT.
func (s *Server) serveSOCKS4(cc *clientConn) {
	t, err := readSOCKS4Request(cc.br)
	if err != nil {
		s.observeConn(cc.Conn, KindSOCKS4, refusal.Wrap(refusal.Malformed, "", err))
		if !isEOF(err) {
			s.socks4Reply(cc, socks4Rejected, true)
		}
		return
	}
	if cc.early == nil && cc.auth {
		cc.early = refusal.New(refusal.Auth, "SOCKS4 has no authentication")
	}
	if cc.early != nil {
		s.observe(KindSOCKS4, cc.early)
		s.socks4Reply(cc, socks4Rejected, true)
		return
	}
	ctx, cancel := context.WithCancel(cc.ctx)
	defer cancel()
	up, err := s.dial(ctx, t)
	if err != nil {
		s.observe(KindSOCKS4, refusalOf(err))
		s.socks4Reply(cc, socks4Rejected, true)
		return
	}
	if !s.socks4Reply(cc, socks4Granted, false) {
		up.Close()
		return
	}
	s.observe(KindSOCKS4, nil)
	s.startTunnel(cc, up)
}

// readSOCKS4Request reads VN CD DSTPORT DSTIP USERID NUL [HOST NUL].
func readSOCKS4Request(br *bufio.Reader) (Target, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return Target{}, err
	}
	if hdr[0] != 0x04 {
		return Target{}, errSOCKS
	}
	if _, err := readNulTerminated(br); err != nil {
		return Target{}, err
	}
	port := binary.BigEndian.Uint16(hdr[2:4])
	ip := netip.AddrFrom4([4]byte(hdr[4:8]))
	if hdr[1] != cmdConnect {
		return Target{}, errors.New("SOCKS4 command not supported")
	}
	if port == 0 {
		return Target{}, errSOCKS
	}
	t := Target{Host: ip.String(), Port: port, Kind: KindSOCKS4}
	if hdr[4] == 0 && hdr[5] == 0 && hdr[6] == 0 && hdr[7] != 0 { // SOCKS4a: 0.0.0.x
		name, err := readNulTerminated(br)
		if err != nil {
			return Target{}, err
		}
		if name == "" {
			return Target{}, errSOCKS
		}
		t.Host = name
	}
	return t, nil
}

// readNulTerminated reads a field ending in NUL, at most maxSOCKS4Field bytes long.
func readNulTerminated(br *bufio.Reader) (string, error) {
	var b []byte
	for len(b) <= maxSOCKS4Field {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		if c == 0 {
			return string(b), nil
		}
		b = append(b, c)
	}
	return "", errors.New("SOCKS4 field too long")
}

// socks4Reply sends VN=0, the code and eight zero bytes; on failure it closes gracefully.
func (s *Server) socks4Reply(cc *clientConn, code byte, fail bool) bool {
	cc.SetWriteDeadline(time.Now().Add(s.handshakeTimeout()))
	_, err := cc.Write([]byte{0, code, 0, 0, 0, 0, 0, 0})
	if fail {
		lingerClose(cc.Conn)
	}
	return err == nil
}
