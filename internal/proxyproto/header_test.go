package proxyproto

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	src4 = netip.MustParseAddrPort("192.0.2.77:51000")
	dst4 = netip.MustParseAddrPort("192.0.2.1:4480")
	src6 = netip.MustParseAddrPort("[2001:db8:77::1]:51000")
	dst6 = netip.MustParseAddrPort("[2001:db8:77::2]:4480")
)

func TestParseV1(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Header
		err  error
	}{
		{name: "tcp4", line: "PROXY TCP4 192.0.2.77 192.0.2.1 51000 4480\r\n", want: Header{Source: src4, Dest: dst4}},
		{name: "tcp6", line: "PROXY TCP6 2001:db8:77::1 2001:db8:77::2 51000 4480\r\n", want: Header{Source: src6, Dest: dst6}},
		{name: "unknown", line: "PROXY UNKNOWN\r\n", want: Header{Local: true}},
		{name: "unknown with addresses", line: "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", want: Header{Local: true}},
		{name: "tcp4 with ipv6", line: "PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n", err: ErrMalformed},
		{name: "tcp6 with ipv4", line: "PROXY TCP6 192.0.2.1 192.0.2.1 1 2\r\n", err: ErrMalformed},
		{name: "port too big", line: "PROXY TCP4 192.0.2.77 192.0.2.1 65536 4480\r\n", err: ErrMalformed},
		{name: "leading zero", line: "PROXY TCP4 192.0.2.77 192.0.2.1 051000 4480\r\n", err: ErrMalformed},
		{name: "signed port", line: "PROXY TCP4 192.0.2.77 192.0.2.1 +5 4480\r\n", err: ErrMalformed},
		{name: "double space", line: "PROXY TCP4  192.0.2.77 192.0.2.1 5 4480\r\n", err: ErrMalformed},
		{name: "missing field", line: "PROXY TCP4 192.0.2.77 192.0.2.1 5\r\n", err: ErrMalformed},
		{name: "zone", line: "PROXY TCP6 fe80::1%eth0 fe80::2 5 6\r\n", err: ErrMalformed},
		{name: "lf only", line: "PROXY TCP4 192.0.2.77 192.0.2.1 5 6\n", err: ErrMalformed},
		{name: "udp", line: "PROXY UDP4 192.0.2.77 192.0.2.1 5 6\r\n", err: ErrMalformed},
		{name: "too long", line: "PROXY UNKNOWN " + string(bytes.Repeat([]byte("x"), 100)) + "\r\n", err: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseV1([]byte(tt.line))
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseV1 error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("parseV1 (-want +got):\n%s", diff)
			}
		})
	}
}

func v2(cmd, fam byte, block []byte) []byte {
	b := append([]byte{}, v2Sig...)
	b = append(b, cmd, fam, byte(len(block)>>8), byte(len(block)))
	return append(b, block...)
}

func TestParseV2(t *testing.T) {
	tlv := append(Header{Source: src4, Dest: dst4}.AppendV2(nil)[16:], 0x04, 0, 3, 'a', 'b', 'c')
	tests := []struct {
		name string
		raw  []byte
		want Header
		err  error
	}{
		{name: "tcp4", raw: Header{Source: src4, Dest: dst4}.AppendV2(nil), want: Header{Source: src4, Dest: dst4}},
		{name: "tcp6", raw: Header{Source: src6, Dest: dst6}.AppendV2(nil), want: Header{Source: src6, Dest: dst6}},
		{name: "tcp4 with a TLV", raw: v2(0x21, 0x11, tlv), want: Header{Source: src4, Dest: dst4}},
		{name: "local", raw: v2(0x20, 0x00, nil), want: Header{Local: true}},
		{name: "local with a block", raw: v2(0x20, 0x11, make([]byte, 12)), want: Header{Local: true}},
		{name: "udp4 is local", raw: v2(0x21, 0x12, make([]byte, 12)), want: Header{Local: true}},
		{name: "unix is local", raw: v2(0x21, 0x31, make([]byte, 216)), want: Header{Local: true}},
		{name: "version 1 byte", raw: v2(0x11, 0x11, make([]byte, 12)), err: ErrMalformed},
		{name: "unknown command", raw: v2(0x22, 0x11, make([]byte, 12)), err: ErrMalformed},
		{name: "tcp4 block short", raw: v2(0x21, 0x11, make([]byte, 11)), err: ErrMalformed},
		{name: "tcp6 block short", raw: v2(0x21, 0x21, make([]byte, 35)), err: ErrMalformed},
		{name: "too long", raw: v2(0x21, 0x11, make([]byte, MaxV2Length+1)), err: ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseV2(tt.raw[:16], tt.raw[16:])
			if !errors.Is(err, tt.err) {
				t.Fatalf("parseV2 error = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("parseV2 = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseV1(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.77 192.0.2.1 51000 4480\r\n"))
	f.Add([]byte("PROXY TCP6 2001:db8:77::1 2001:db8:77::2 51000 4480\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		h, err := parseV1(line)
		if err != nil {
			return
		}
		if h.Local {
			return
		}
		again, err := parseV1(h.AppendV1(nil))
		if err != nil || again != h {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", line, again, err, h)
		}
	})
}

func FuzzParseV2(f *testing.F) {
	f.Add(Header{Source: src4, Dest: dst4}.AppendV2(nil))
	f.Add(Header{Source: src6, Dest: dst6}.AppendV2(nil))
	f.Add(v2(0x20, 0x00, nil))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < v2FixedLen {
			return
		}
		n, err := v2Length(raw[:16])
		if err != nil {
			return
		}
		if len(raw)-16 < n {
			return
		}
		h, err := parseV2(raw[:16], raw[16:16+n])
		if err != nil || h.Local {
			return
		}
		again, err := parseV2(h.AppendV2(nil)[:16], h.AppendV2(nil)[16:])
		if err != nil || again != h {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, h)
		}
	})
}
