package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// originAddrs are the origin's three servers.
type originAddrs struct {
	HTTP   string `json:"http"`   // answers GET /small with 64 bytes, keep-alive
	HTTP2  string `json:"http2"`  // the same on a second port, for the second new-tunnel load
	Source string `json:"source"` // writes bytes as fast as the reader takes them
	Echo   string `json:"echo"`   // echoes every byte
}

// smallBody is what the origin answers to every HTTP request.
var smallBody = []byte("sortie bench origin: sixty-four bytes of body for each request.\n")

// runOrigin serves the origin on ip until its stdin closes (the bench that started it ended).
func runOrigin(ip string) error {
	var addrs originAddrs
	lns := make([]net.Listener, 4)
	for i, a := range []*string{&addrs.HTTP, &addrs.Source, &addrs.Echo, &addrs.HTTP2} {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return fmt.Errorf("origin listen: %w", err)
		}
		lns[i], *a = ln, ln.Addr().String()
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(smallBody)))
		w.Write(smallBody)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 10 * time.Minute}
	go srv.Serve(lns[0])
	go srv.Serve(lns[3])
	go acceptLoop(lns[1], serveSource)
	go acceptLoop(lns[2], serveEcho)
	if err := json.NewEncoder(os.Stdout).Encode(addrs); err != nil {
		return err
	}
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	return nil
}

func acceptLoop(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(c)
	}
}

// serveSource writes until the reader goes away.
func serveSource(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 256<<10)
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// serveEcho copies what it reads back to the writer through a small buffer. Not io.Copy:
// its splice would keep a pipe pair per connection in the runtime's pool, and 9,000 echo
// connections would spend the origin's 20,000 descriptors.
func serveEcho(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 2048)
	io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, buf)
}
