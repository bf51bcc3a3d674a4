package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Where the origin listens. The configuration allows originNet as a destination.
const (
	originNet   = "127.55.0.0/16"
	originHTTP  = "127.55.1.1" // the well-behaved client's page
	originLogin = "127.55.2.1" // a "login" port: a banner, then close
	originScan  = "127.55.3.1" // nothing listens: every port refuses
	echoHosts   = 10           // 127.55.0.1..10: echo ports for idle tunnels
	loginBanner = "SSH-2.0-loadtest\r\n"
	pageBody    = "ok\n"
)

// originAddrs is what the origin process reports on its standard output once listening.
type originAddrs struct {
	HTTP  string   `json:"http"`
	Login string   `json:"login"`
	Echo  []string `json:"echo"`
}

// runOrigin serves the page, the login port and the echo ports until in closes.
func runOrigin(in io.Reader, out io.Writer) error {
	var a originAddrs
	var lns []net.Listener
	listen := func(host string) (net.Listener, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err == nil {
			lns = append(lns, ln)
		}
		return ln, err
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	page, err := listen(originHTTP)
	if err != nil {
		return err
	}
	a.HTTP = page.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(servePage), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(page)
	login, err := listen(originLogin)
	if err != nil {
		return err
	}
	a.Login = login.Addr().String()
	go accept(login, serveLogin)
	for i := 1; i <= echoHosts; i++ {
		ln, err := listen(fmt.Sprintf("127.55.0.%d", i))
		if err != nil {
			return err
		}
		a.Echo = append(a.Echo, ln.Addr().String())
		go accept(ln, serveEcho)
	}
	if err := json.NewEncoder(out).Encode(a); err != nil {
		return err
	}
	io.Copy(io.Discard, in) // until the parent is done
	return nil
}

func servePage(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, pageBody) }

// accept serves each connection of ln in its own goroutine until ln closes.
func accept(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: back off
			continue
		}
		go serve(c)
	}
}

// serveEcho writes back what it reads until the peer closes. It copies through a small
// buffer of its own: io.Copy would splice through a pipe, three descriptors per connection.
func serveEcho(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 512)
	io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, buf)
}

// serveLogin answers like a login service that refuses: a banner, then close.
func serveLogin(c net.Conn) {
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, loginBanner)
}
