package config

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OwnAddress is one entry of the inventory of our exit addresses: an address (or prefix) and
// the days it was ours. The abuse desk asks it "was this address ours at that time"; the
// multi-homed egress will dial from it.
type OwnAddress struct {
	// Address is an IP address or a prefix (203.0.113.5, 2001:db8:5::/48).
	Address AddrPrefix `yaml:"address"`
	// Since is the first day the address was ours (from 00:00 UTC). Empty: always.
	Since Date `yaml:"since"`
	// Until is the last day the address was ours (to 24:00 UTC). Empty: still ours.
	Until Date `yaml:"until"`
	// Name is a short label for the exit using it (for example exit-1).
	Name string `yaml:"name"`
}

// From returns the first instant the address was ours (zero: always).
func (o OwnAddress) From() time.Time { return o.Since.Time }

// To returns the first instant the address was no longer ours (zero: still ours).
func (o OwnAddress) To() time.Time {
	if o.Until.IsZero() {
		return time.Time{}
	}
	return o.Until.AddDate(0, 0, 1)
}

// Desk holds the abuse desk: the store of complaint mail, the ways it comes in, and triage.
// Reference: docs/desk.md.
type Desk struct {
	// Enabled runs the desk inside `sortie serve`. `sortie desk serve` runs it alone, on
	// this or another machine, whatever this says.
	Enabled bool `yaml:"enabled"`
	// Database is a PostgreSQL connection string (postgres://user@host/db or key=value
	// form). Empty: SQLite, the file desk.db in the data directory. May be given as
	// database_file.
	Database Secret `yaml:"database"`
	// Retention is how long raw complaint mail and its personal fields are kept; the counts
	// needed for yearly reports stay. Written as 400d, 9600h...
	Retention Duration `yaml:"retention"`
	// Tag marks the subject of our replies, [TAG#123], so that answers find their case.
	Tag string `yaml:"tag"`
	// MaxMessageBytes caps one complaint mail, on every intake path.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// Maildir is a Maildir watched for new mail. Empty: none.
	Maildir string `yaml:"maildir"`
	// MaildirInterval is how often the Maildir is looked at.
	MaildirInterval Duration `yaml:"maildir_interval"`
	// IMAP polls a folder of a mail server.
	IMAP DeskIMAP `yaml:"imap"`
	// SMTP is a listener for abuse@ mail.
	SMTP DeskSMTP `yaml:"smtp"`
	// SenderRules are the operator's own rules on senders, checked in order.
	SenderRules []SenderRule `yaml:"sender_rules"`
}

// DeskIMAP polls a folder of an IMAP server.
type DeskIMAP struct {
	// Address of the server, host:port. Empty: no IMAP polling.
	Address string `yaml:"address"`
	// TLS is tls (implicit, port 993), starttls or none (only for a server on loopback).
	TLS string `yaml:"tls"`
	// Username and Password log in; password may be given as password_file.
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// Folder is read for new mail.
	Folder string `yaml:"folder"`
	// MoveTo, when set, is the folder a mail is moved to once stored; empty: it is marked
	// seen and stays.
	MoveTo string `yaml:"move_to"`
	// Interval between polls.
	Interval Duration `yaml:"interval"`
}

// DeskSMTP is an SMTP listener that takes complaint mail directly.
type DeskSMTP struct {
	// Address to listen on, ip:port. Empty: no listener.
	Address string `yaml:"address"`
	// Hostname announced in the greeting. Empty: the machine's name.
	Hostname string `yaml:"hostname"`
	// Recipients accepted: addresses (abuse@example.org) or domains (@example.org). Empty:
	// any recipient.
	Recipients []string `yaml:"recipients"`
	// RatePerMinute caps the mails one client address may deliver per minute.
	RatePerMinute int `yaml:"rate_per_minute"`
}

// SenderRule is one of the operator's rules on senders. Every condition given must match.
type SenderRule struct {
	// Name identifies the rule in triage reasons and counts.
	Name string `yaml:"name"`
	// From is a glob on the sender's address (*@example.net) or a domain (example.net, which
	// covers its subdomains).
	From string `yaml:"from"`
	// Header is a header name (present) or "Name: glob" (its value matches).
	Header string `yaml:"header"`
	// Body is a regular expression (RE2) searched in the mail's text.
	Body string `yaml:"body"`
	// Action is ignore (ignore and count), queue, or auto-reply (with template; never to an
	// automatically submitted mail).
	Action string `yaml:"action"`
	// Category, when set, is the category of the mails the rule matches.
	Category string `yaml:"category"`
	// Template names the reply template of an auto-reply rule.
	Template string `yaml:"template"`
}

// SenderActions are the actions a sender rule may take.
var SenderActions = []string{"ignore", "queue", "auto-reply"}

// DeskCategories are the complaint categories.
var DeskCategories = []string{"copyright", "scanning", "brute-force", "dos", "spam", "fraud", "hacking",
	"harassment", "law-enforcement", "upstream", "other"}

// maxDeskMessageBytes bounds desk.max_message_bytes.
const maxDeskMessageBytes = 64 << 20

func (c *Config) validateDesk(p *problems, where string) {
	d := c.Desk
	if d.Retention < Duration(24*time.Hour) {
		p.add(where+".retention", "want at least 1d (such as 400d), got %s", d.Retention)
	}
	if d.Tag == "" || strings.ContainsAny(d.Tag, "[]# \t") {
		p.add(where+".tag", "want one word without brackets, # or spaces, such as sortie, got %q", d.Tag)
	}
	if d.MaxMessageBytes < 1024 || d.MaxMessageBytes > maxDeskMessageBytes {
		p.add(where+".max_message_bytes", "want 1024 to %d, got %d", maxDeskMessageBytes, d.MaxMessageBytes)
	}
	if d.Maildir != "" && !path.IsAbs(d.Maildir) {
		p.add(where+".maildir", "want an absolute path, got %q", d.Maildir)
	}
	positive(p, where+".maildir_interval", d.MaildirInterval)
	if im := d.IMAP; im.Address != "" {
		pp := where + ".imap"
		if _, port, err := splitHostPort(im.Address); err != nil || port == "" {
			p.add(pp+".address", "want host:port such as mail.example.org:993, got %q", im.Address)
		}
		switch im.TLS {
		case "tls", "starttls", "none":
		default:
			p.add(pp+".tls", "want tls, starttls or none, got %q", im.TLS)
		}
		if im.Username == "" || !im.Password.IsSet() {
			p.add(pp, "give username and password (or password_file) for %s", im.Address)
		}
		if im.Folder == "" {
			p.add(pp+".folder", "want a folder name such as INBOX")
		}
		positive(p, pp+".interval", im.Interval)
	}
	if s := d.SMTP; s.Address != "" {
		pp := where + ".smtp"
		if ap, err := netip.ParseAddrPort(s.Address); err != nil {
			p.add(pp+".address", "want ip:port such as 0.0.0.0:25, got %q", s.Address)
		} else {
			c.checkClash(p, pp+".address", ap)
		}
		for i, r := range s.Recipients {
			if !strings.Contains(r, "@") {
				p.add(pp+".recipients["+strconv.Itoa(i)+"]", "want an address or @domain, got %q", r)
			}
		}
		if s.RatePerMinute < 1 {
			p.add(pp+".rate_per_minute", "want 1 or more, got %d", s.RatePerMinute)
		}
	}
	for i, r := range d.SenderRules {
		pp := where + ".sender_rules[" + strconv.Itoa(i) + "]"
		if r.Name == "" {
			p.add(pp+".name", "want a name for the rule")
		}
		if r.From == "" && r.Header == "" && r.Body == "" {
			p.add(pp, "give at least one of from, header, body")
		}
		if r.Body != "" {
			if _, err := regexp.Compile(r.Body); err != nil {
				p.add(pp+".body", "not a regular expression: %v", err)
			}
		}
		if !contains(SenderActions, r.Action) {
			p.add(pp+".action", "want one of %s, got %q", strings.Join(SenderActions, ", "), r.Action)
		}
		if r.Action == "auto-reply" && r.Template == "" {
			p.add(pp+".template", "an auto-reply rule needs a template")
		}
		if r.Category != "" && !contains(DeskCategories, r.Category) {
			p.add(pp+".category", "want one of %s, got %q", strings.Join(DeskCategories, ", "), r.Category)
		}
	}
}

func (e Egress) validateAddresses(p *problems, where string) {
	for i, a := range e.Addresses {
		pp := where + ".addresses[" + strconv.Itoa(i) + "]"
		pf := a.Address.Prefix
		if !pf.IsValid() {
			p.add(pp+".address", "want an address or prefix such as 203.0.113.5, got nothing")
			continue
		}
		if pf != pf.Masked() {
			p.add(pp+".address", "%s has bits set past the /%d mask: did you mean %s?", pf, pf.Bits(), pf.Masked())
		}
		if !a.Since.IsZero() && !a.Until.IsZero() && a.Until.Before(a.Since.Time) {
			p.add(pp+".until", "%s is before since (%s)", a.Until.Format(time.DateOnly), a.Since.Format(time.DateOnly))
		}
	}
}

// AddrPrefix is a prefix that may be written as a bare address (203.0.113.5 is
// 203.0.113.5/32).
type AddrPrefix struct{ netip.Prefix }

// MarshalText writes a single address without its length.
func (a AddrPrefix) MarshalText() ([]byte, error) {
	if !a.IsValid() {
		return nil, nil
	}
	if a.IsSingleIP() {
		return a.Addr().MarshalText()
	}
	return a.Prefix.MarshalText()
}

// UnmarshalText reads an address or a prefix.
func (a *AddrPrefix) UnmarshalText(b []byte) error {
	if pf, err := netip.ParsePrefix(string(b)); err == nil {
		*a = AddrPrefix{pf}
		return nil
	}
	ip, err := netip.ParseAddr(string(b))
	if err != nil {
		return fmt.Errorf("want an address or prefix such as 203.0.113.5 or 2001:db8::/48, got %q", b)
	}
	*a = AddrPrefix{netip.PrefixFrom(ip, ip.BitLen())}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// splitHostPort splits host:port, [v6]:port.
func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", strconv.ErrSyntax
	}
	host, port = s[:i], s[i+1:]
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return "", "", strconv.ErrSyntax
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", strconv.ErrSyntax
	}
	return host, port, nil
}
