package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in configuration files as "10s", "5m", "1h30m", and
// whole days as "400d".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns d as short Go duration text: "1m" rather than "1m0s", "1h30m" rather than
// "1h30m0s".
func (d Duration) String() string {
	if d >= Duration(2*day) && d%Duration(day) == 0 {
		return strconv.FormatInt(int64(d/Duration(day)), 10) + "d"
	}
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText writes d as short Go duration text (see String).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

const day = 24 * time.Hour

// UnmarshalText reads Go duration text such as "10s" or "1m30s", or whole days ("400d").
func (d *Duration) UnmarshalText(b []byte) error {
	if n, ok := strings.CutSuffix(string(b), "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > 100*365 {
			return fmt.Errorf("want a duration such as 10s, 5m or 400d, got %q", b)
		}
		*d = Duration(time.Duration(days) * day)
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration such as 10s or 5m, got %q", b)
	}
	*d = Duration(v)
	return nil
}
