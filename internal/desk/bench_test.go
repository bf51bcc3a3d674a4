package desk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sortie.dev/sortie/internal/desk/intake"
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

// BenchmarkImportMbox measures `sortie desk import` of an mbox file on SQLite, the whole
// path: reading and splitting the file, hashing, storing with a synced commit per mail.
// One op is one mail; msgs/s is the import throughput.
func BenchmarkImportMbox(b *testing.B) {
	d := testDesk(b, nil)
	raws := benchMails(b)
	var box bytes.Buffer
	for i := range b.N {
		fmt.Fprintf(&box, "From abuse@example.net Sat Nov 21 10:00:00 2026\nX-Bench: %d\n", i)
		box.Write(bytes.ReplaceAll(raws[i%len(raws)], []byte("\nFrom "), []byte("\n>From ")))
		box.WriteString("\n")
	}
	path := filepath.Join(b.TempDir(), "bench.mbox")
	if err := os.WriteFile(path, box.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	sum, err := intake.Import(context.Background(), path, d, intake.ImportOptions{})
	b.StopTimer()
	if err != nil || sum.Imported+sum.Repeats != b.N || len(sum.Failed) != 0 {
		b.Fatalf("import of %d mails: %+v %v", b.N, sum, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
