package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"sortie.dev/sortie/internal/auth"
	"sortie.dev/sortie/internal/refusal"
)

// BenchmarkConnectAuth measures new CONNECT tunnels per second with and without proxy
// authentication (HTTP Basic checked by a real argon2id verifier; after the first check the
// verifier answers from its cache, as for a user's every later connection).
func BenchmarkConnectAuth(b *testing.B) {
	hash, err := auth.NewHash("secret", auth.Params{Memory: 1024, Time: 1, Threads: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	v, err := auth.New(map[string]string{"alice": hash.String()}, auth.Options{MinCost: 1})
	if err != nil {
		b.Fatal(err)
	}
	authenticate := func(ctx context.Context, user, password string) (context.Context, error) {
		if ok, _ := v.Check(ctx, user, password); !ok {
			return nil, refusal.New(refusal.Auth, "")
		}
		return ctx, nil
	}
	for _, tt := range []struct {
		name   string
		auth   bool
		header string
	}{
		{name: "none"},
		{name: "basic", auth: true, header: "Proxy-Authorization: " + basic("alice", "secret") + "\r\n"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			t := &testing.T{}
			f := &fixture{t: t, names: map[string]string{"origin.test": "127.0.0.1"}, dials: make(chan Target, 1)}
			srv := &Server{Dial: f.dial, Authenticate: authenticate}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go srv.ServeListen(ln, Listen{Auth: tt.auth})
			defer srv.Shutdown(context.Background())
			port := benchEcho(b)
			req := "CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\n" + tt.header + "\r\n"
			b.ResetTimer()
			for range b.N {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				io.WriteString(c, req)
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("CONNECT: %v %v", resp, err)
				}
				c.Write([]byte{1})
				if _, err := br.ReadByte(); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tunnels/s")
		})
	}
}

// benchEcho runs an echo server on loopback until the benchmark ends.
func benchEcho(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
