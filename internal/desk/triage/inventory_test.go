package triage

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func testInventory(t *testing.T) Inventory {
	t.Helper()
	inv, err := Inventory{
		{Prefix: netip.MustParsePrefix("192.0.2.0/28"), Since: day("2024-01-01"), Name: "exit-a"},
		{Prefix: netip.MustParsePrefix("192.0.2.7/32"), Since: day("2025-01-01"), Name: "exit-a7"},
		{Prefix: netip.MustParsePrefix("198.51.100.7/32"), Since: day("2023-01-01"), Until: day("2025-06-01"), Name: "old-exit"},
		{Prefix: netip.MustParsePrefix("2001:db8:5::/48"), Since: day("2025-01-01"), Name: "exit-v6"},
		{Prefix: netip.MustParsePrefix("::ffff:203.0.113.64/124"), Name: "mapped-block"},
	}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestInventoryOwner(t *testing.T) {
	inv := testInventory(t)
	tests := []struct {
		name  string
		addr  string
		at    time.Time
		owner string // "" when not ours
	}{
		{name: "in-block", addr: "192.0.2.3", at: day("2026-03-01"), owner: "exit-a"},
		{name: "longest-prefix", addr: "192.0.2.7", at: day("2026-03-01"), owner: "exit-a7"},
		{name: "longest-not-yet", addr: "192.0.2.7", at: day("2024-06-01"), owner: "exit-a"},
		{name: "before-since", addr: "192.0.2.3", at: day("2023-12-31"), owner: ""},
		{name: "since-inclusive", addr: "192.0.2.3", at: day("2024-01-01"), owner: "exit-a"},
		{name: "outside-block", addr: "192.0.2.16", at: day("2026-03-01"), owner: ""},
		{name: "old-in-window", addr: "198.51.100.7", at: day("2024-02-01"), owner: "old-exit"},
		{name: "old-until-exclusive", addr: "198.51.100.7", at: day("2025-06-01"), owner: ""},
		{name: "old-after", addr: "198.51.100.7", at: day("2026-02-01"), owner: ""},
		{name: "old-any-time", addr: "198.51.100.7", owner: "old-exit"},
		{name: "mapped-query", addr: "::ffff:192.0.2.3", at: day("2026-03-01"), owner: "exit-a"},
		{name: "mapped-prefix", addr: "203.0.113.70", at: day("2020-01-01"), owner: "mapped-block"},
		{name: "v6", addr: "2001:db8:5:1::9", at: day("2026-03-01"), owner: "exit-v6"},
		{name: "v6-other", addr: "2001:db8:6::9", at: day("2026-03-01"), owner: ""},
		{name: "zone-ignored", addr: "2001:db8:5::1%eth0", at: day("2026-03-01"), owner: "exit-v6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := inv.Owner(netip.MustParseAddr(tt.addr), tt.at)
			if ok != (tt.owner != "") || o.Name != tt.owner {
				t.Errorf("Owner(%s, %v) = %q %v, want %q", tt.addr, tt.at, o.Name, ok, tt.owner)
			}
		})
	}
}

func TestInventoryNormalizeErrors(t *testing.T) {
	_, err := Inventory{
		{Name: "no-prefix"},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Since: day("2025-01-01"), Until: day("2024-01-01"), Name: "backwards"},
		{Prefix: netip.MustParsePrefix("::ffff:0.0.0.0/80"), Name: "short-mapped"},
		{Prefix: netip.MustParsePrefix("192.0.2.1/24"), Name: "fine"},
	}.Normalize()
	if !errors.Is(err, ErrInventory) {
		t.Fatalf("error %v, want ErrInventory", err)
	}
	for _, name := range []string{"entry 1 (no-prefix)", "entry 2 (backwards", "entry 3 (short-mapped)"} {
		if !contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
	if contains(err.Error(), "fine") {
		t.Errorf("error %q names a valid entry", err)
	}
}
