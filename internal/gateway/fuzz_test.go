package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

func FuzzReadHead(f *testing.F) {
	for _, seed := range []string{
		"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
		"POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST http://a/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readHead(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if h.method == "" || h.target == "" || h.major != 1 {
			t.Fatalf("accepted a head without method, target or HTTP/1: %+v", h)
		}
		if h.chunked && h.contentLength != -1 || !h.chunked && h.contentLength < 0 {
			t.Fatalf("inconsistent framing: %+v", h)
		}
		if len(h.header["Host"]) > 1 || h.chunked && len(h.header["Content-Length"]) > 0 {
			t.Fatalf("accepted an ambiguous head: %+v", h.header)
		}
	})
}

func FuzzSOCKS5Request(f *testing.F) {
	f.Add(socks5Request(1, atypDomain, []byte("example.com"), 443)[3:])
	f.Add(socks5Request(1, atypIPv4, []byte{1, 2, 3, 4}, 80)[3:])
	f.Add(socks5Request(1, atypIPv6, make([]byte, 16), 80)[3:])
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, code, err := readSOCKS5Request(bytes.NewReader(data))
		if err == nil && (tg.Port == 0 || tg.Host == "" || code != 0) {
			t.Fatalf("accepted %+v code %d", tg, code)
		}
	})
}

func FuzzSOCKS4Request(f *testing.F) {
	f.Add([]byte("\x04\x01\x00\x50\x7f\x00\x00\x01user\x00"))
	f.Add([]byte("\x04\x01\x01\xbb\x00\x00\x00\x01\x00example.com\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, err := readSOCKS4Request(bufio.NewReader(bytes.NewReader(data)))
		if err == nil && (tg.Port == 0 || tg.Host == "") {
			t.Fatalf("accepted %+v", tg)
		}
	})
}

// FuzzServeConn feeds arbitrary bytes to a whole connection: whatever arrives, the gateway
// answers or closes within its handshake timeout, never panics and never dials for a refused
// destination (the Dial here refuses everything).
func FuzzServeConn(f *testing.F) {
	f.Add([]byte("GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("CONNECT example.com:443 HTTP/1.1\r\n\r\n"))
	f.Add(append([]byte{5, 1, 0}, socks5Request(1, atypDomain, []byte("example.com"), 443)[3:]...))
	f.Add([]byte("\x04\x01\x00\x50\x00\x00\x00\x01u\x00example.com\x00"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := &Server{
			HandshakeTimeout: 100 * time.Millisecond,
			KeepAliveTimeout: 100 * time.Millisecond,
			IdleTimeout:      100 * time.Millisecond,
			Dial: func(context.Context, Target) (net.Conn, error) {
				return nil, refusal.New(refusal.Policy, "")
			},
		}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { defer close(done); srv.serveConn(server, Listen{Protocols: AllProtocols}, false) }()
		go func() {
			client.SetWriteDeadline(time.Now().Add(time.Second))
			client.Write(data)
		}()
		client.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err := io.Copy(io.Discard, client)
		client.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("connection goroutine still running")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("gateway neither answered nor closed in time")
		}
	})
}
