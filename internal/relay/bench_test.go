//go:build linux

package relay

import (
	"net"
	"testing"
	"time"
)

const benchWrite = 128 << 10

// BenchmarkPipeTCP measures throughput from a client through a relay to a sink on loopback.
func BenchmarkPipeTCP(b *testing.B) {
	for _, tr := range transports[:2] {
		b.Run(tr.name, func(b *testing.B) {
			client, a := tcpPair(b)
			bb, sink := tcpPair(b)
			pool := newPipePool(16, pipeSize)
			defer pool.close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				pipeWith(a, bb, time.Minute, tr.mode, pool)
			}()
			throughput(b, client, sink)
			client.Close()
			sink.Close()
			<-done
		})
	}
}

// BenchmarkDirectTCP is the same transfer without a relay, for comparison.
func BenchmarkDirectTCP(b *testing.B) {
	client, sink := tcpPair(b)
	defer client.Close()
	defer sink.Close()
	throughput(b, client, sink)
}

// throughput writes b.N blocks to w and reads them all from r.
func throughput(b *testing.B, w, r net.Conn) {
	b.SetBytes(benchWrite)
	total := int64(b.N) * benchWrite
	got := make(chan int64, 1)
	go func() {
		buf := make([]byte, 256<<10)
		var n int64
		for n < total {
			m, err := r.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
		}
		got <- n
	}()
	block := make([]byte, benchWrite)
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	if n := <-got; n != total {
		b.Fatalf("sink read %d bytes, want %d", n, total)
	}
	b.StopTimer()
}

// BenchmarkPipeTCPAmongIdle is BenchmarkPipeTCP with 500 idle tunnels open beside the busy
// one. Run it as an unprivileged user to see the per-user pipe quota: in the readfrom mode
// the idle tunnels hold a runtime pipe per direction, the quota runs out and the busy tunnel
// splices through two-page pipes.
func BenchmarkPipeTCPAmongIdle(b *testing.B) {
	const idle = 500
	for _, tr := range transports[:2] {
		b.Run(tr.name, func(b *testing.B) {
			pool := newPipePool(16, pipeSize)
			defer pool.close()
			var ends []net.Conn
			done := make(chan struct{}, idle+1)
			for range idle {
				c, a := tcpPair(b)
				bb, s := tcpPair(b)
				ends = append(ends, c, s)
				go func() {
					pipeWith(a, bb, time.Minute, tr.mode, pool)
					done <- struct{}{}
				}()
				c.Write([]byte("x"))
				s.Read(make([]byte, 1))
				s.Write([]byte("y"))
				c.Read(make([]byte, 1))
			}
			client, a := tcpPair(b)
			bb, sink := tcpPair(b)
			ends = append(ends, client, sink)
			go func() {
				pipeWith(a, bb, time.Minute, tr.mode, pool)
				done <- struct{}{}
			}()
			throughput(b, client, sink)
			for _, c := range ends {
				c.Close()
			}
			for range idle + 1 {
				<-done
			}
		})
	}
}
