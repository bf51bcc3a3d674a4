package guard

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for the zero values of Config's fields. A negative value turns a limit off.
const (
	DefaultMaxTunnels    = 256
	DefaultConnRate      = 20.0 // new connections per second, per client
	DefaultConnBurst     = 100
	DefaultRequestRate   = 20.0 // forward requests per second, per client
	DefaultRequestBurst  = 100
	DefaultDestRate      = 200.0 // new connections per second to one address and port
	DefaultDestBurst     = 1000
	DefaultScanPorts     = 20 // distinct ports of one address, per client and window
	DefaultSweepAddrs    = 32 // distinct addresses of one network on one port, per client and window
	DefaultBruteMax      = 20 // connections to one login port of one address, per client and window
	DefaultWindow        = time.Minute
	DefaultLongLived     = 30 * time.Second
	DefaultPenalty       = 5 * time.Minute
	DefaultTableSize     = 1 << 16
	DefaultSweepInterval = 30 * time.Second

	// MaxWindow bounds every window, penalty and refill time: no state outlives it, except the
	// count of a client's open connections while they are open.
	MaxWindow = 10 * time.Minute
	// MaxTableSize bounds each table (slots).
	MaxTableSize = 1 << 22
)

// DefaultLoginPorts are the ports the brute-force throttle watches: SSH, telnet, FTP, RDP,
// VNC, POP3, IMAP, IMAPS, POP3S, MySQL, PostgreSQL, SQL Server, SMB.
var DefaultLoginPorts = []uint16{22, 23, 21, 3389, 5900, 110, 143, 993, 995, 3306, 5432, 1433, 445}

// Config sets the guard's limits. The zero value of a field means its default; a negative
// value turns that limit off.
type Config struct {
	// MaxTunnels caps the connections one client holds open at once (Admit).
	MaxTunnels int
	// ConnRate is the sustained rate of new connections per client, per second (Admit);
	// ConnBurst how many may arrive at once.
	ConnRate  float64
	ConnBurst int
	// RequestRate is the sustained rate of forward requests per client, per second
	// (Request); RequestBurst how many may arrive at once.
	RequestRate  float64
	RequestBurst int
	// DestRate is the sustained rate of new connections to one address and port across all
	// clients, per second (Dest); DestBurst how many may leave at once.
	DestRate  float64
	DestBurst int
	// PortScan throttles one client reaching many distinct ports of one address.
	PortScan Pattern
	// Sweep throttles one client reaching one port on many addresses of a network (/24 for
	// IPv4, /48 for IPv6).
	Sweep Pattern
	// BruteForce throttles short connections from one client to a login port of one address.
	BruteForce Brute
	// Penalty is how long a client that tripped a pattern stays throttled for that address
	// (port scan, brute force) or network and port (sweep).
	Penalty time.Duration
	// TableSize is the number of slots of each of the guard's five tables.
	TableSize int
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Pattern is a distinct-count throttle: more than Distinct values within Window trips it.
type Pattern struct {
	Distinct int           // 0: the default; negative: off; at most 100
	Window   time.Duration // 0: DefaultWindow
}

// Brute is the brute-force throttle: more than Max new connections within Window from one
// client to one login port of one address trips it. A connection reported to Done as having
// lived at least LongLived is not counted.
type Brute struct {
	Max       int           // 0: DefaultBruteMax; negative: off
	Window    time.Duration // 0: DefaultWindow
	Ports     []uint16      // the operator's login ports, added to DefaultLoginPorts
	LongLived time.Duration // 0: DefaultLongLived
}

// Validate reports every value New would have to change, all at once.
func (c Config) Validate() error {
	var errs []error
	checkRate := func(name string, r float64, burst int) {
		if r > 0 && burst > 0 && time.Duration(float64(burst)/r*float64(time.Second)) > MaxWindow {
			errs = append(errs, fmt.Errorf("%s: a burst of %d at %g/s takes longer than %v to refill", name, burst, r, MaxWindow))
		}
	}
	checkWindow := func(name string, d time.Duration) {
		if d > MaxWindow {
			errs = append(errs, fmt.Errorf("%s: %v is longer than %v", name, d, MaxWindow))
		}
	}
	checkRate("conn_rate", c.ConnRate, c.ConnBurst)
	checkRate("request_rate", c.RequestRate, c.RequestBurst)
	checkRate("dest_rate", c.DestRate, c.DestBurst)
	checkWindow("port_scan.window", c.PortScan.Window)
	checkWindow("sweep.window", c.Sweep.Window)
	checkWindow("brute_force.window", c.BruteForce.Window)
	checkWindow("penalty", c.Penalty)
	if c.PortScan.Distinct > maxDistinct || c.Sweep.Distinct > maxDistinct {
		errs = append(errs, fmt.Errorf("a distinct-count threshold is above %d", maxDistinct))
	}
	if c.BruteForce.Max > 0 && c.BruteForce.Window > 0 &&
		c.BruteForce.Window/time.Duration(c.BruteForce.Max) == 0 {
		errs = append(errs, errors.New("brute_force: max is too high for its window"))
	}
	if c.TableSize > MaxTableSize {
		errs = append(errs, fmt.Errorf("table_size: %d is above %d", c.TableSize, MaxTableSize))
	}
	return errors.Join(errs...)
}

// settled is a Config with defaults filled in and values clamped to their bounds.
type settled struct {
	maxTunnels         int
	conn, req, dest    rate
	scan, sweep        int
	scanWin, sweepWin  int64
	brute              rate
	bruteOn            bool
	longLived, penalty int64
	tableSize          int
	clock              func() time.Time
	loginPorts         [65536 / 64]uint64
}

func settle(c Config) settled {
	s := settled{
		maxTunnels: pick(c.MaxTunnels, DefaultMaxTunnels),
		conn:       limitRate(c.ConnRate, DefaultConnRate, c.ConnBurst, DefaultConnBurst),
		req:        limitRate(c.RequestRate, DefaultRequestRate, c.RequestBurst, DefaultRequestBurst),
		dest:       limitRate(c.DestRate, DefaultDestRate, c.DestBurst, DefaultDestBurst),
		scan:       min(pick(c.PortScan.Distinct, DefaultScanPorts), maxDistinct),
		sweep:      min(pick(c.Sweep.Distinct, DefaultSweepAddrs), maxDistinct),
		scanWin:    window(c.PortScan.Window, DefaultWindow),
		sweepWin:   window(c.Sweep.Window, DefaultWindow),
		longLived:  window(c.BruteForce.LongLived, DefaultLongLived),
		penalty:    window(c.Penalty, DefaultPenalty),
		tableSize:  min(pick(c.TableSize, DefaultTableSize), MaxTableSize),
		clock:      c.Clock,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if n := pick(c.BruteForce.Max, DefaultBruteMax); n > 0 {
		w := window(c.BruteForce.Window, DefaultWindow)
		s.brute = rate{interval: max(w/int64(n), 1), tolerance: int64(n-1) * max(w/int64(n), 1)}
		s.bruteOn = true
	}
	for _, p := range append(DefaultLoginPorts, c.BruteForce.Ports...) {
		s.loginPorts[p/64] |= 1 << (p % 64)
	}
	return s
}

func (s *settled) isLogin(port uint16) bool { return s.loginPorts[port/64]&(1<<(port%64)) != 0 }

// pick returns v, def when v is zero, or 0 (off) when v is negative.
func pick(v, def int) int {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

func limitRate(r, defRate float64, burst, defBurst int) rate {
	switch {
	case r < 0 || burst < 0:
		return rate{}
	case r == 0:
		r = defRate
	}
	if burst == 0 {
		burst = defBurst
	}
	lim := newRate(r, burst)
	if time.Duration(lim.tolerance+lim.interval) > MaxWindow {
		lim.interval = min(lim.interval, int64(MaxWindow))
		lim.tolerance = int64(MaxWindow) - lim.interval
	}
	return lim
}

// window returns d (or def when d is not positive) in nanoseconds, at most MaxWindow.
func window(d, def time.Duration) int64 {
	if d <= 0 {
		d = def
	}
	return int64(min(d, MaxWindow))
}
