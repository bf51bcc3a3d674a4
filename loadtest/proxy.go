package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// The proxy modes a client may use.
const (
	modeForward = "forward"
	modeConnect = "connect"
	modeSOCKS5  = "socks5"
	modeSOCKS4a = "socks4a"
)

var modes = []string{modeForward, modeConnect, modeSOCKS5, modeSOCKS4a}

// ioTimeout bounds every dial, write and read of the clients.
const ioTimeout = 5 * time.Second

// dialFrom connects to addr from the loopback source src, the kernel choosing the port.
func dialFrom(ctx context.Context, src netip.Addr, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Timeout: ioTimeout}
	return d.DialContext(ctx, "tcp", addr)
}

// bufConn is a connection whose first bytes may already sit in a reader.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// openVia opens a connection to target through the proxy in mode, from src. It returns the
// proxy's answer ("200", "429", "socks5:02", "socks4:5b"...) and, when the answer is a
// success, the open connection (for modeForward: the connection after the response head, the
// origin's body to read). err is set when the exchange itself failed.
func openVia(ctx context.Context, mode, proxy string, src netip.Addr, target netip.AddrPort) (net.Conn, string, error) {
	c, err := dialFrom(ctx, src, proxy)
	if err != nil {
		return nil, "", err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReader(c)
	var answer string
	var ok bool
	switch mode {
	case modeForward:
		answer, ok, err = httpExchange(c, br, "GET http://"+target.String()+"/ HTTP/1.1\r\nHost: "+target.String()+"\r\nConnection: close\r\n\r\n")
	case modeConnect:
		answer, ok, err = httpExchange(c, br, "CONNECT "+target.String()+" HTTP/1.1\r\nHost: "+target.String()+"\r\n\r\n")
	case modeSOCKS5:
		answer, ok, err = socks5Exchange(c, br, target)
	case modeSOCKS4a:
		answer, ok, err = socks4aExchange(c, br, target)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil || !ok {
		c.Close()
		return nil, answer, err
	}
	c.SetDeadline(time.Time{})
	return bufConn{Conn: c, r: br}, answer, nil
}

// httpExchange sends an HTTP request head and reads the response head.
func httpExchange(c net.Conn, br *bufio.Reader, head string) (string, bool, error) {
	if _, err := io.WriteString(c, head); err != nil {
		return "", false, err
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", false, err
	}
	return fmt.Sprint(res.StatusCode), res.StatusCode == http.StatusOK, nil
}

// socks5Exchange greets without authentication and asks for target by IPv4 address.
func socks5Exchange(c net.Conn, br *bufio.Reader, target netip.AddrPort) (string, bool, error) {
	req := []byte{5, 1, 0, 5, 1, 0, 1}
	a := target.Addr().As4()
	req = append(req, a[:]...)
	req = binary.BigEndian.AppendUint16(req, target.Port())
	if _, err := c.Write(req); err != nil {
		return "", false, err
	}
	var rep [12]byte // method choice (2) and reply with an IPv4 address (10)
	if _, err := io.ReadFull(br, rep[:4]); err != nil {
		return "", false, err
	}
	if rep[1] != 0 {
		return fmt.Sprintf("socks5-method:%02x", rep[1]), false, nil
	}
	answer := fmt.Sprintf("socks5:%02x", rep[3])
	if rep[3] != 0 {
		return answer, false, nil
	}
	if _, err := io.ReadFull(br, rep[4:]); err != nil {
		return answer, false, err
	}
	return answer, true, nil
}

// socks4aExchange asks for target by name (its address written out), as SOCKS4a does.
func socks4aExchange(c net.Conn, br *bufio.Reader, target netip.AddrPort) (string, bool, error) {
	req := []byte{4, 1}
	req = binary.BigEndian.AppendUint16(req, target.Port())
	req = append(req, 0, 0, 0, 1, 0)
	req = append(req, target.Addr().String()...)
	req = append(req, 0)
	if _, err := c.Write(req); err != nil {
		return "", false, err
	}
	var rep [8]byte
	if _, err := io.ReadFull(br, rep[:]); err != nil {
		return "", false, err
	}
	return fmt.Sprintf("socks4:%02x", rep[1]), rep[1] == 0x5a, nil
}

// errNotServed is a well-behaved request that did not get the page.
var errNotServed = errors.New("not served")
