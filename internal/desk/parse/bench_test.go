package parse

import (
	"os"
	"testing"
)

// BenchmarkParse parses the fixtures in turn: ns/op and allocs/op are per message.
func BenchmarkParse(b *testing.B) {
	var mails [][]byte
	size := 0
	for _, name := range fixtures(b) {
		raw, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		mails = append(mails, raw)
		size += len(raw)
	}
	b.SetBytes(int64(size / len(mails)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := Parse(mails[i%len(mails)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
