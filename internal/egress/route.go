package egress

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Route sends the names under Suffix to an upstream proxy instead of resolving them: a local
// Tor for .onion (socks5://127.0.0.1:9050), a local i2pd HTTP proxy for .i2p
// (http://127.0.0.1:4444). A Route with a nil Upstream refuses its names (NoRoute). Routed
// names are never resolved locally.
type Route struct {
	Suffix   string   // ".onion"; matched case-insensitively against the normalised name
	Upstream *url.URL // socks5://host:port or http://host:port; nil refuses
}

// Public messages of routed connections.
const (
	msgNoRoute         = "this exit has no route to that network"
	msgUpstreamDown    = "the upstream proxy for that network is not reachable"
	msgUpstreamRefused = "the upstream proxy for that network refused the connection"
)

// route returns the route for name, if any.
func (e *Egress) route(name string) (Route, bool) {
	for _, r := range e.Routes {
		s := strings.ToLower(strings.TrimPrefix(r.Suffix, "."))
		if name == s || strings.HasSuffix(name, "."+s) {
			return r, true
		}
	}
	return Route{}, false
}

// dialRoute connects to name:port through the route's upstream proxy.
func (e *Egress) dialRoute(ctx context.Context, r Route, name string, port uint16) (net.Conn, error) {
	if r.Upstream == nil {
		return nil, refusal.New(refusal.NoRoute, msgNoRoute)
	}
	ctx, cancel := context.WithTimeout(ctx, e.dialTimeout())
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Upstream.Host)
	if err != nil {
		return nil, refusal.Wrap(refusal.UpstreamFailure, msgUpstreamDown, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	switch r.Upstream.Scheme {
	case "socks5", "socks5h":
		err = socks5Connect(c, name, port)
	case "http":
		err = httpConnect(c, name, port)
	default:
		err = refusal.New(refusal.UpstreamFailure, "unsupported upstream proxy scheme")
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// socks5Connect asks a SOCKS5 proxy (RFC 1928), without authentication, for name:port.
func socks5Connect(c net.Conn, name string, port uint16) error {
	if len(name) > 255 {
		return refusal.New(refusal.Malformed, msgMalformed)
	}
	req := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(name))}
	req = append(req, name...)
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := c.Write(req); err != nil {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamDown, err)
	}
	var reply [12]byte // method selection, then the reply up to an IPv4 bound address
	if _, err := io.ReadFull(c, reply[:2]); err != nil || reply[0] != 5 || reply[1] != 0 {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamRefused, errSOCKSUpstream(err))
	}
	if _, err := io.ReadFull(c, reply[2:6]); err != nil || reply[2] != 5 {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamRefused, errSOCKSUpstream(err))
	}
	if code := reply[3]; code != 0 {
		return socksReplyRefusal(code)
	}
	return skipSOCKSBound(c, reply[5])
}

func errSOCKSUpstream(err error) error {
	if err != nil {
		return err
	}
	return errors.New("unexpected SOCKS reply")
}

// skipSOCKSBound reads the bound address of a SOCKS5 reply, of the given address type.
func skipSOCKSBound(c net.Conn, atyp byte) error {
	var n int
	switch atyp {
	case 1:
		n = 4 + 2
	case 4:
		n = 16 + 2
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamRefused, err)
		}
		n = int(l[0]) + 2
	default:
		return refusal.New(refusal.UpstreamFailure, msgUpstreamRefused)
	}
	if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamRefused, err)
	}
	return nil
}

// socksReplyRefusal maps an upstream SOCKS5 failure code, Tor's onion-service codes
// (0xF0-0xF7) included, to a refusal.
func socksReplyRefusal(code byte) error {
	switch {
	case code == 0x03:
		return refusal.New(refusal.NetUnreach, msgNetUnreach)
	case code == 0x04, code == 0x06, code >= 0xF0 && code <= 0xF7:
		return refusal.New(refusal.HostUnreach, msgHostUnreach)
	case code == 0x05:
		return refusal.New(refusal.Refused, msgRefused)
	}
	return refusal.New(refusal.UpstreamFailure, msgUpstreamRefused)
}

// httpConnect asks an HTTP proxy for a CONNECT tunnel to name:port.
func httpConnect(c net.Conn, name string, port uint16) error {
	authority := net.JoinHostPort(name, strconv.Itoa(int(port)))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority); err != nil {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamDown, err)
	}
	// The proxy sends nothing after its answer until we speak, so a reader that stops at the
	// end of the head loses nothing: read the head one byte at a time.
	br := bufio.NewReaderSize(byteReader{c}, 16)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return refusal.Wrap(refusal.UpstreamFailure, msgUpstreamRefused, err)
	}
	if resp.StatusCode/100 != 2 {
		return refusal.New(refusal.UpstreamFailure, "the upstream proxy for that network answered "+strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode))
	}
	return nil
}

// byteReader reads one byte per call, so that a buffered reader on top never reads ahead.
type byteReader struct{ r io.Reader }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return b.r.Read(p[:1])
}
