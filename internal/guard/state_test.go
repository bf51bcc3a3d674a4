package guard

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// allOn is a configuration with every limit on and low thresholds, to fill every table.
func allOn() Config {
	return Config{
		MaxTunnels: 4, ConnRate: 5, ConnBurst: 5, RequestRate: 5, RequestBurst: 5,
		DestRate: 5, DestBurst: 5, PortScan: Pattern{Distinct: 3}, Sweep: Pattern{Distinct: 3},
		BruteForce: Brute{Max: 3}, TableSize: 1024,
	}
}

// rawSlots returns the memory of every slot of every table, as bytes.
func rawSlots(g *Guard) [][]byte {
	var out [][]byte
	add := func(p unsafe.Pointer, n uintptr) { out = append(out, unsafe.Slice((*byte)(p), n)) }
	for i := range nShards {
		s1 := g.clients.shards[i].slots
		add(unsafe.Pointer(unsafe.SliceData(s1)), uintptr(len(s1))*unsafe.Sizeof(s1[0]))
		s2 := g.dests.shards[i].slots
		add(unsafe.Pointer(unsafe.SliceData(s2)), uintptr(len(s2))*unsafe.Sizeof(s2[0]))
		for _, tb := range []*table[patternEntry, *patternEntry]{g.scans, g.sweeps} {
			s3 := tb.shards[i].slots
			add(unsafe.Pointer(unsafe.SliceData(s3)), uintptr(len(s3))*unsafe.Sizeof(s3[0]))
		}
		s4 := g.brutes.shards[i].slots
		add(unsafe.Pointer(unsafe.SliceData(s4)), uintptr(len(s4))*unsafe.Sizeof(s4[0]))
	}
	return out
}

// TestStateHoldsNoIdentity checks that the tables can hold numbers only (no string, pointer,
// interface or address type anywhere in a slot), and that after traffic their memory holds
// neither the client key nor the destination's address bytes.
func TestStateHoldsNoIdentity(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[slot[clientEntry]](), reflect.TypeFor[slot[rateEntry]](),
		reflect.TypeFor[slot[patternEntry]](), reflect.TypeFor[slot[bruteEntry]](),
	} {
		if bad := nonNumeric(typ, typ.String()); bad != "" {
			t.Errorf("%s", bad)
		}
	}
	client := Key("203.0.113.77")
	dst := netip.MustParseAddr("192.0.2.55")
	dst6 := netip.MustParseAddr("2001:db8:55:66::77")
	g := New(allOn(), nil)
	for i := range 20 {
		if rel, err := g.Admit(client); err == nil {
			defer rel()
		}
		g.Request(client)
		g.Dest(client, dst, uint16(20+i))
		g.Dest(client, dst6, 22)
		g.Done(client, dst, 22, time.Minute)
	}
	needles := map[string][]byte{
		"client key":   []byte(client),
		"client bytes": netip.MustParseAddr(string(client)).AsSlice(),
		"destination":  dst.AsSlice(),
		"ipv6 /48":     dst6.AsSlice()[:6],
	}
	used := 0
	for _, mem := range rawSlots(g) {
		if len(bytes.Trim(mem, "\x00")) > 0 {
			used++
		}
		for name, n := range needles {
			if bytes.Contains(mem, n) {
				t.Errorf("the guard's tables hold the %s", name)
			}
		}
	}
	if used == 0 {
		t.Fatal("no table holds anything: the test looked at the wrong memory")
	}
}

// nonNumeric returns a description of the first field of typ that is not a number or an
// array or struct of numbers, or "".
func nonNumeric(typ reflect.Type, path string) string {
	switch typ.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return ""
	case reflect.Array:
		return nonNumeric(typ.Elem(), path+"[]")
	case reflect.Struct:
		for i := range typ.NumField() {
			f := typ.Field(i)
			if bad := nonNumeric(f.Type, path+"."+f.Name); bad != "" {
				return bad
			}
		}
		return ""
	}
	return fmt.Sprintf("%s is a %s: slots must hold numbers only", path, typ)
}

// TestMemoryBounded pushes two million distinct clients and destinations through a guard and
// checks that its memory did not grow and its tables stayed within their capacity.
func TestMemoryBounded(t *testing.T) {
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	cfg := allOn()
	cfg.TableSize = 1 << 14
	g := New(cfg, nil)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		k := AddrKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		if rel, err := g.Admit(k); err == nil {
			rel()
		}
		g.Dest(k, netip.AddrFrom4([4]byte{192, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 1<<20 {
		t.Errorf("heap grew by %d bytes over %d clients, want under 1 MiB (fixed tables)", grew, n)
	}
	for _, tc := range g.Snapshot().Tables {
		if tc.InUse > tc.Capacity || tc.Capacity != 1<<14 {
			t.Errorf("%s: %d in use of %d, want at most the capacity 16384", tc.Name, tc.InUse, tc.Capacity)
		}
	}
	t.Logf("%d clients: heap %d -> %d bytes", n, before.HeapInuse, after.HeapInuse)
}

// TestOpenConnectionsSurviveEviction checks that a client's open connections are not
// forgotten when a flood of other clients churns the table.
func TestOpenConnectionsSurviveEviction(t *testing.T) {
	cfg := off()
	cfg.MaxTunnels, cfg.ConnRate, cfg.ConnBurst, cfg.TableSize = 1, 1, 1, 512
	g := New(cfg, nil)
	rel, err := g.Admit("holder")
	mustOK(t, err, "holder")
	defer rel()
	for i := range 100_000 {
		if r, err := g.Admit(Key(fmt.Sprint("flood", i))); err == nil {
			r()
		}
	}
	_, err = g.Admit("holder")
	wantRefused(t, err, CauseTunnels)
	if g.Snapshot().Tables[tableClients].Evictions == 0 {
		t.Error("no eviction counted, want many (512 slots, 100,000 clients)")
	}
}

// TestStateExpires checks that ten minutes after the last activity every table is empty
// (Run's sweep cleared the slots, hashes included), except the clients with open connections.
func TestStateExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(allOn(), nil)
		rel, _ := g.Admit("open")
		for i := range 50 {
			k := Key(fmt.Sprint("c", i))
			if r, err := g.Admit(k); err == nil {
				r()
			}
			g.Request(k)
			g.Dest(k, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 22)
		}
		ctx, cancel := contextWithCancel(t)
		done := make(chan error)
		go func() { done <- g.Run(ctx) }()
		time.Sleep(MaxWindow + DefaultSweepInterval)
		synctest.Wait()
		got := map[string]int{}
		for _, tc := range g.Snapshot().Tables {
			got[tc.Name] = tc.InUse
		}
		want := map[string]int{"clients": 1, "dests": 0, "port_scan": 0, "sweep": 0, "brute_force": 0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("slots in use after %v (-want +got):\n%s", MaxWindow, diff)
		}
		rel()
		g.Sweep()
		if n := g.m.live[tableClients].Load(); n != 0 {
			t.Errorf("clients in use after the last release = %d, want 0", n)
		}
		nonEmpty := 0
		for _, mem := range rawSlots(g) {
			if len(bytes.Trim(mem, "\x00")) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty != 0 {
			t.Errorf("%d shards still hold bytes after the sweep, want all zero", nonEmpty)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestConcurrentAdmit(t *testing.T) {
	cfg := off()
	cfg.MaxTunnels = 50
	g := New(cfg, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := Key(fmt.Sprint("k", (w*7+i)%5))
				if rel, err := g.Admit(k); err == nil {
					g.Dest(k, web, uint16(i%7+1))
					rel()
				}
			}
		})
	}
	wg.Wait()
	for i := range 5 {
		var rels []func()
		for j := range 50 {
			rel, err := g.Admit(Key(fmt.Sprint("k", i)))
			mustOK(t, err, fmt.Sprintf("k%d tunnel %d after the storm", i, j))
			rels = append(rels, rel)
		}
		for _, r := range rels {
			r()
		}
	}
}

func TestDestAllocations(t *testing.T) {
	g := New(Config{DestRate: 1e9, DestBurst: 1 << 20}, nil)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		g.Dest("client", web, uint16(443+i%2))
		g.Request("client")
	})
	if allocs != 0 {
		t.Errorf("Dest and Request allocate %v times, want 0", allocs)
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want Key
	}{
		{name: "ipv4", addr: "192.0.2.1", want: "192.0.2.1"},
		{name: "i2pd per-peer loopback", addr: "127.12.34.56", want: "127.12.34.56"},
		{name: "mapped", addr: "::ffff:192.0.2.1", want: "192.0.2.1"},
		{name: "ipv6 by /64", addr: "2001:db8:1:2:3:4:5:6", want: "2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddrKey(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("AddrKey(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
	if UserKey("192.0.2.1") == AddrKey(netip.MustParseAddr("192.0.2.1")) {
		t.Error("a user name equal to an address gets the address's key")
	}
}
