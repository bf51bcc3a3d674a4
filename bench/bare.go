package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// runBare is the bare reference proxy: HTTP CONNECT and SOCKS5 CONNECT (no authentication,
// IPv4 or name), then io.Copy both ways. No policy, no limits, no timeouts, no logs: the
// floor against which the cost of Sortie's features shows.
func runBare(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bare listen: %w", err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go bareServe(c)
	}
}

func bareServe(c net.Conn) {
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	if err != nil {
		c.Close()
		return
	}
	var target string
	if first[0] == 5 {
		target, err = bareSOCKS5(c, br)
	} else {
		target, err = bareCONNECT(br)
	}
	if err != nil {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	if first[0] == 5 {
		_, err = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	} else {
		_, err = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	}
	if err != nil {
		c.Close()
		up.Close()
		return
	}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		up.Write(b)
	}
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(c, up)
	c.Close()
	up.Close()
}

func bareCONNECT(br *bufio.Reader) (string, error) {
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return "", fmt.Errorf("not a CONNECT")
	}
	return req.Host, nil
}

func bareSOCKS5(c net.Conn, br *bufio.Reader) (string, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(br, head); err != nil {
		return "", err
	}
	if _, err := br.Discard(int(head[1])); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return "", err
	}
	req := make([]byte, 4)
	if _, err := io.ReadFull(br, req); err != nil || req[1] != 1 {
		return "", fmt.Errorf("bad request")
	}
	var host string
	switch req[3] {
	case 1:
		ip := make([]byte, 4)
		if _, err := io.ReadFull(br, ip); err != nil {
			return "", err
		}
		host = net.IP(ip).String()
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(br, name); err != nil {
			return "", err
		}
		host = string(name)
	default:
		return "", fmt.Errorf("address type %d", req[3])
	}
	port := make([]byte, 2)
	if _, err := io.ReadFull(br, port); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port)))), nil
}
