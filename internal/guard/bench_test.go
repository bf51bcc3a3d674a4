package guard

import (
	"fmt"
	"net/netip"
	"testing"
	"unsafe"
)

// TestTableMemory pins the memory the default tables take, the figure docs/hardening.md gives.
func TestTableMemory(t *testing.T) {
	per := unsafe.Sizeof(slot[clientEntry]{}) + unsafe.Sizeof(slot[rateEntry]{}) +
		2*unsafe.Sizeof(slot[patternEntry]{}) + unsafe.Sizeof(slot[bruteEntry]{})
	total := int(per) * DefaultTableSize
	t.Logf("%d bytes per slot over the five tables; %d MiB at the default size", per, total>>20)
	if total > 13<<20 {
		t.Errorf("default tables take %d bytes, want at most the documented 13 MiB", total)
	}
}

func BenchmarkAdmit(b *testing.B) {
	g := New(Config{ConnRate: 1e9, ConnBurst: 1 << 20}, nil)
	keys := make([]Key, 1024)
	for i := range keys {
		keys[i] = Key(fmt.Sprint("192.0.2.", i))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if rel, err := g.Admit(keys[i%len(keys)]); err == nil {
				rel()
			}
		}
	})
}

func BenchmarkDest(b *testing.B) {
	g := New(Config{DestRate: 1e9, DestBurst: 1 << 20}, nil)
	a := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			g.Dest("client", a, uint16(443+i%2))
		}
	})
}
