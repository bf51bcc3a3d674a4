package parse

import (
	"testing"
	"time"
)

func TestFindTime(t *testing.T) {
	zone := func(name string, hours float64) *time.Location {
		return time.FixedZone(name, int(hours*3600))
	}
	tests := []struct {
		name      string
		text      string
		want      time.Time
		zoneGiven bool
		none      bool
	}{
		{name: "iso Z", text: "at 2026-03-01T12:34:56Z.", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC), zoneGiven: true},
		{name: "iso offset", text: "2026-03-01T12:34:56+01:00", want: time.Date(2026, 3, 1, 12, 34, 56, 0, zone("", 1)), zoneGiven: true},
		{name: "iso fraction", text: "2026-03-01T12:34:56.250Z", want: time.Date(2026, 3, 1, 12, 34, 56, 250e6, time.UTC), zoneGiven: true},
		{name: "space and UTC", text: "2026-03-01 12:34:56 UTC", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC), zoneGiven: true},
		{name: "space and offset", text: "2026-03-01 12:34:56 +0100", want: time.Date(2026, 3, 1, 12, 34, 56, 0, zone("", 1)), zoneGiven: true},
		{name: "slashes and minutes", text: "2026/03/01 12:34 CET", want: time.Date(2026, 3, 1, 12, 34, 0, 0, zone("CET", 1)), zoneGiven: true},
		{name: "UTC with offset", text: "2026-03-01 12:34 UTC+2", want: time.Date(2026, 3, 1, 12, 34, 0, 0, zone("", 2)), zoneGiven: true},
		{name: "GMT in parentheses", text: "2026-03-01 12:34:56 (GMT)", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC), zoneGiven: true},
		{name: "rfc 2822", text: "Sun, 01 Mar 2026 12:34:56 +0100 (CET)", want: time.Date(2026, 3, 1, 12, 34, 56, 0, zone("", 1)), zoneGiven: true},
		{name: "rfc 2822 named zone", text: "1 Mar 2026 12:34:56 EST", want: time.Date(2026, 3, 1, 12, 34, 56, 0, zone("EST", -5)), zoneGiven: true},
		{name: "long month and at", text: "on 1 March 2026 at 09:05 CEST", want: time.Date(2026, 3, 1, 9, 5, 0, 0, zone("CEST", 2)), zoneGiven: true},
		{name: "us with pm", text: "March 1, 2026 at 9:15 PM PST", want: time.Date(2026, 3, 1, 21, 15, 0, 0, zone("PST", -8)), zoneGiven: true},
		{name: "us with am twelve", text: "Mar 1st, 2026 12:05 am JST", want: time.Date(2026, 3, 1, 0, 5, 0, 0, zone("JST", 9)), zoneGiven: true},
		{name: "x-arf tool style", text: "Feb  3 2014 02:13:35 +0100", want: time.Date(2014, 2, 3, 2, 13, 35, 0, zone("", 1)), zoneGiven: true},
		{name: "day first dotted", text: "am 01.04.2026 um 14:22:10 Uhr MESZ", want: time.Date(2026, 4, 1, 14, 22, 10, 0, zone("MESZ", 2)), zoneGiven: true},
		{name: "date(1)", text: "Sun Mar  1 12:34:56 UTC 2026", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC), zoneGiven: true},
		{name: "no zone is UTC", text: "2026-03-01 12:34:56", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC)},
		{name: "unknown zone word", text: "2026-03-01 12:34:56 ABC", want: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC)},
		{name: "earliest of several forms", text: "first 2 Mar 2026 10:00 GMT then 2026-03-01T00:00Z", want: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), zoneGiven: true},
		{name: "invalid day skipped", text: "2026-02-30 10:00 and 2026-03-01 11:00Z", want: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), zoneGiven: true},
		{name: "month 13", text: "2026-13-01 10:00", none: true},
		{name: "hour 25", text: "2026-03-01 25:00", none: true},
		{name: "date only", text: "on 2026-03-01 we saw it", none: true},
		{name: "clock only", text: "at 12:34:56 UTC", none: true},
		{name: "year too early", text: "1900-01-01 10:00", none: true},
		{name: "syslog without year", text: "Mar  1 12:34:56 host sshd", none: true},
		{name: "offset out of range", text: "2026-03-01 12:00 +1900", want: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, given, ok := FindTime(tt.text)
			if tt.none {
				if ok {
					t.Errorf("FindTime(%q) = %v, want none", tt.text, got)
				}
				return
			}
			if !ok {
				t.Fatalf("FindTime(%q) found nothing, want %v", tt.text, tt.want)
			}
			_, gotOff := got.Zone()
			_, wantOff := tt.want.Zone()
			if !got.Equal(tt.want) || gotOff != wantOff || given != tt.zoneGiven {
				t.Errorf("FindTime(%q) = %v (zone given %v), want %v (zone given %v)", tt.text, got, given, tt.want, tt.zoneGiven)
			}
			if !given && got.Location() != time.UTC {
				t.Errorf("FindTime(%q) without a zone gave location %v, want UTC", tt.text, got.Location())
			}
		})
	}
}
