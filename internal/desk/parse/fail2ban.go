package parse

import (
	"regexp"
	"strings"
)

var (
	// f2bSubject matches the subjects fail2ban actions send: "[Fail2Ban] sshd: banned
	// 203.0.113.5 from host" and "Abuse from 203.0.113.5".
	f2bSubject = regexp.MustCompile(`(?i)^\s*(?:\[fail2ban\]\s*([\w.-]+)?|abuse\s+(?:report\s+)?from\s+\S+)`)
	// f2bJail finds the jail in log lines or text: "NOTICE [sshd] Ban", "attempts against
	// sshd".
	f2bJail = regexp.MustCompile(`(?i)\bnotice\s+\[([\w.-]{1,64})\]\s+(?:re)?ban\b|\battempts\s+against\s+([\w.-]{1,64})`)
)

// fail2banReport reads a mail sent by a fail2ban-style action: a subject naming the banned
// address (or a text that says fail2ban) with log lines. It is brute force, or scanning
// when the jail or text speaks of scans.
func fail2banReport(d *decoded) (Report, bool) {
	m := d.msg
	sm := f2bSubject.FindStringSubmatch(m.Subject)
	mentions := containsFold(m.Subject, "fail2ban") || containsFold(truncate(m.Text, maxScan), "fail2ban")
	if sm == nil && !mentions {
		return Report{}, false
	}
	if sm != nil && !mentions && len(Addresses(m.Subject)) == 0 {
		return Report{}, false
	}
	r := Report{Format: FormatFail2ban, Complainant: m.From, Category: CategoryBruteForce}
	if sm != nil {
		r.Type = sm[1]
	}
	if r.Type == "" {
		if jm := f2bJail.FindStringSubmatch(truncate(m.Text, maxScan)); jm != nil {
			r.Type = firstNonEmpty(jm[1], jm[2])
		}
	}
	r.Service = jailService(r.Type)
	if containsFold(r.Type, "scan") || containsFold(m.Subject, "scan") || containsFold(truncate(m.Text, maxScan), "port scan") ||
		containsFold(truncate(m.Text, maxScan), "portscan") {
		r.Category = CategoryScanning
	}
	fromText(&r, d)
	return r, true
}

// jailServices maps words in fail2ban jail names to the service they guard.
var jailServices = []struct{ word, service string }{
	{"ssh", "ssh"}, {"apache", "http"}, {"nginx", "http"}, {"http", "http"}, {"wordpress", "http"},
	{"wp-", "http"}, {"postfix", "smtp"}, {"exim", "smtp"}, {"sendmail", "smtp"}, {"smtp", "smtp"},
	{"dovecot", "imap"}, {"courier", "imap"}, {"imap", "imap"}, {"pop3", "pop3"}, {"ftp", "ftp"},
	{"asterisk", "sip"}, {"sip", "sip"}, {"mysql", "mysql"}, {"named", "dns"}, {"bind", "dns"},
	{"rdp", "rdp"}, {"vnc", "vnc"},
}

// jailService names the service a jail guards, "" when it is not known.
func jailService(jail string) string {
	j := strings.ToLower(jail)
	for _, s := range jailServices {
		if strings.Contains(j, s.word) {
			return s.service
		}
	}
	return ""
}
