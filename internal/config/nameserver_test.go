package config

import (
	"net/netip"
	"testing"
)

func TestParseNameserver(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "v4 without port", in: "192.0.2.53", want: "192.0.2.53:53"},
		{name: "v4 with port", in: "192.0.2.53:5353", want: "192.0.2.53:5353"},
		{name: "v6 without port", in: "2001:db8::53", want: "[2001:db8::53]:53"},
		{name: "v6 in brackets without port", in: "[2001:db8::53]", want: "[2001:db8::53]:53"},
		{name: "v6 with port", in: "[2001:db8::53]:5353", want: "[2001:db8::53]:5353"},
		{name: "name", in: "dns.example", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "v4 in brackets", in: "[192.0.2.53]", wantErr: true},
		{name: "one bracket", in: "[2001:db8::53", wantErr: true},
		{name: "bad port", in: "192.0.2.53:99999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNameserver(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseNameserver(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNameserver(%q): %v", tt.in, err)
			}
			if got.String() != tt.want || got.AddrPort() != netip.MustParseAddrPort(tt.want) {
				t.Errorf("ParseNameserver(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
