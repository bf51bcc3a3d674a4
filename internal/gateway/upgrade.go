package gateway

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// upgrade relays a protocol-switch request (WebSocket and the like) on its own upstream
// connection: when the origin answers 101, both connections become a raw tunnel.
func (f *forwarder) upgrade(h *head, u *url.URL) {
	s, cc := f.srv, f.cc
	port := uint16(80)
	if p := u.Port(); p != "" {
		port, _ = parsePort(p)
	}
	if h.contentLength != 0 {
		s.refuse(cc, f.bw, KindForward, refusal.New(refusal.Malformed, "An upgrade request carries no body."))
		return
	}
	ctx, cancel := context.WithTimeout(cc.ctx, s.idleTimeout())
	defer cancel()
	up, err := s.dial(ctx, Target{Host: u.Hostname(), Port: port, Kind: KindForward})
	if err != nil {
		s.refuse(cc, f.bw, KindForward, refusalOf(err))
		return
	}
	resp, ubr, err := f.sendUpgrade(up, h, u)
	if err != nil {
		up.Close()
		s.refuse(cc, f.bw, KindForward, upstreamError(err, ctx))
		return
	}
	s.observe(KindForward, nil)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer up.Close()
		watch := newWatchdog(s.idleTimeout(), func() { up.Close() })
		defer watch.stop()
		f.writeResponse(h, resp, false, watch)
		return
	}
	cleanHeader(resp.Header, true)
	cc.SetWriteDeadline(time.Now().Add(s.idleTimeout()))
	f.bw.WriteString("HTTP/1.1 " + resp.Status + "\r\n")
	resp.Header.Write(f.bw)
	f.bw.WriteString("\r\n")
	if n := ubr.Buffered(); n > 0 {
		b, _ := ubr.Peek(n)
		f.bw.Write(b)
	}
	if err := f.bw.Flush(); err != nil {
		up.Close()
		return
	}
	up.SetDeadline(time.Time{})
	s.startTunnel(cc, up)
}

// sendUpgrade writes the upgrade request head to up and reads the response head.
func (f *forwarder) sendUpgrade(up net.Conn, h *head, u *url.URL) (*http.Response, *bufio.Reader, error) {
	hd := h.header
	cleanHeader(hd, true)
	if f.srv.Via != "" {
		hd.Add("Via", "1.1 "+f.srv.Via)
	}
	w := bufio.NewWriterSize(up, 2<<10)
	w.WriteString(h.method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	hd.Write(w)
	w.WriteString("\r\n")
	up.SetDeadline(time.Now().Add(f.srv.idleTimeout()))
	if err := w.Flush(); err != nil {
		return nil, nil, err
	}
	ubr := bufio.NewReaderSize(up, 4<<10)
	resp, err := http.ReadResponse(ubr, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		resp.ContentLength = 0
	} else if resp.ContentLength < 0 && resp.Header.Get("Content-Length") != "" {
		resp.ContentLength, _ = strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	}
	return resp, ubr, nil
}
