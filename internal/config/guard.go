package config

import (
	"time"

	"sortie.dev/sortie/internal/guard"
)

// Guard holds the limits that keep one client, or one destination, from using the exit as a
// weapon: per-client caps and rates, per-destination rates, and the scan, sweep and
// brute-force throttles. Every count is kept under a keyed hash, in fixed-size tables, for at
// most ten minutes (docs/privacy.md). A value of -1 turns that limit off.
type Guard struct {
	// Enabled switches every limit of this section on or off at once.
	Enabled bool `yaml:"enabled"`
	// MaxTunnels caps the connections one client holds open at once.
	MaxTunnels int `yaml:"max_tunnels"`
	// ConnRate is the sustained rate of new connections per client, per second; ConnBurst
	// how many may arrive at once.
	ConnRate  float64 `yaml:"conn_rate"`
	ConnBurst int     `yaml:"conn_burst"`
	// RequestRate is the sustained rate of forward requests per client on kept-alive
	// connections, per second; RequestBurst how many may arrive at once.
	RequestRate  float64 `yaml:"request_rate"`
	RequestBurst int     `yaml:"request_burst"`
	// DestRate is the sustained rate of new connections to one address and port, over all
	// clients, per second; DestBurst how many may leave at once.
	DestRate  float64 `yaml:"dest_rate"`
	DestBurst int     `yaml:"dest_burst"`
	// PortScan throttles one client reaching many distinct ports of one address.
	PortScan GuardPattern `yaml:"port_scan"`
	// Sweep throttles one client reaching one port on many addresses of one network (/24,
	// /48).
	Sweep GuardPattern `yaml:"sweep"`
	// BruteForce throttles many short connections from one client to a login port of one
	// address.
	BruteForce GuardBrute `yaml:"brute_force"`
	// Penalty is how long a client that tripped a throttle stays throttled for that target.
	Penalty Duration `yaml:"penalty"`
	// TableSize is the number of slots of each of the guard's tables (memory: about 192 bytes
	// per slot over five tables).
	TableSize int `yaml:"table_size"`
}

// GuardPattern is a distinct-count throttle: more than Distinct values within Window trip it.
type GuardPattern struct {
	// Distinct is the threshold; -1 turns the throttle off.
	Distinct int `yaml:"distinct"`
	// Window is how far back the count reaches (at most 10m).
	Window Duration `yaml:"window"`
}

// GuardBrute is the brute-force throttle.
type GuardBrute struct {
	// Max new connections to one login port of one address within Window; -1 turns it off.
	Max int `yaml:"max"`
	// Window is how far back the count reaches (at most 10m).
	Window Duration `yaml:"window"`
	// Ports are more login ports, added to 22, 23, 21, 3389, 5900, 110, 143, 993, 995, 3306,
	// 5432, 1433 and 445.
	Ports []uint16 `yaml:"ports"`
	// LongLived: a connection that lived at least this long does not count.
	LongLived Duration `yaml:"long_lived"`
}

// GuardConfig converts the section for the guard package.
func (g Guard) GuardConfig() guard.Config {
	return guard.Config{
		MaxTunnels:  g.MaxTunnels,
		ConnRate:    g.ConnRate,
		ConnBurst:   g.ConnBurst,
		RequestRate: g.RequestRate, RequestBurst: g.RequestBurst,
		DestRate: g.DestRate, DestBurst: g.DestBurst,
		PortScan: guard.Pattern{Distinct: g.PortScan.Distinct, Window: time.Duration(g.PortScan.Window)},
		Sweep:    guard.Pattern{Distinct: g.Sweep.Distinct, Window: time.Duration(g.Sweep.Window)},
		BruteForce: guard.Brute{
			Max: g.BruteForce.Max, Window: time.Duration(g.BruteForce.Window),
			Ports: g.BruteForce.Ports, LongLived: time.Duration(g.BruteForce.LongLived),
		},
		Penalty:   time.Duration(g.Penalty),
		TableSize: g.TableSize,
	}
}

// validate reports what the guard package would refuse.
func (g Guard) validate(p *problems) {
	if err := g.GuardConfig().Validate(); err != nil {
		p.add("guard", "%v", err)
	}
}
