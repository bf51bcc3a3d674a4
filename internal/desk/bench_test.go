package desk

import (
	"context"
	"fmt"
	"testing"

	"sortie.dev/sortie/internal/store"
)

// BenchmarkImport measures storing mail on SQLite (the intake's cost per message: hash,
// insert, fsync'd commit). Messages per second = 1e9 / ns/op.
func BenchmarkImport(b *testing.B) {
	d := testDesk(b, nil)
	raws := benchMails(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		raw := append(fmt.Appendf(nil, "X-Bench: %d\r\n", i), raws[i%len(raws)]...)
		if _, err := d.Deliver(ctx, store.Delivery{Source: store.SourceImport, Key: fmt.Sprint(i), Raw: raw}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkProcess measures parse + triage + filing per stored message on SQLite.
func BenchmarkProcess(b *testing.B) {
	d := testDesk(b, nil)
	raws := benchMails(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		raw := append(fmt.Appendf(nil, "X-Bench: %d\r\n", i), raws[i%len(raws)]...)
		st, err := d.Deliver(ctx, store.Delivery{Source: store.SourceImport, Key: fmt.Sprint(i), Raw: raw})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := d.process(ctx, st.MessageID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func benchMails(b *testing.B) [][]byte {
	var out [][]byte
	for _, raw := range fixtures(b) {
		out = append(out, raw)
	}
	return out
}
