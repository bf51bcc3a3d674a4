package main

import (
	"net/smtp"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var smtpListening = regexp.MustCompile(`desk: SMTP listening" address=(127\.0\.0\.1:\d+)`)

// TestServeRunsDesk runs `sortie serve` with the desk enabled and an SMTP listener: a
// complaint sent by SMTP is answered 250, stored, triaged and filed while the gateway
// serves, and `sortie desk` commands read the same store meanwhile.
func TestServeRunsDesk(t *testing.T) {
	dir := t.TempDir()
	bin := buildSortie(t, dir)
	config := filepath.Join(dir, "sortie.yaml")
	writeTestFile(t, config, "version: 1\ndata_dir: "+filepath.Join(dir, "data")+"\n"+
		"listeners: [{address: \"127.0.0.1:0\"}]\nmetrics: {address: \"127.0.0.1:0\"}\nguard: {enabled: false}\n"+
		"egress:\n  addresses: [{address: 203.0.113.5, since: 2026-01-01, name: exit-1}]\n"+
		"desk:\n  enabled: true\n  smtp: {address: \"127.0.0.1:0\", recipients: [\"@exit.example.org\"]}\n")
	p, _ := startSortieProcess(t, bin, config)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := smtpListening.FindStringSubmatch(p.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("the desk's SMTP listener did not start:\n%s", p)
	}
	msg := "From: abuse@example.net\r\nTo: abuse@exit.example.org\r\nSubject: SSH brute force\r\n" +
		"Message-ID: <bf-1@example.net>\r\n\r\n" +
		"Our server saw 200 failed password attempts from 203.0.113.5 on 2026-11-20 10:00:00 UTC.\r\n"
	if err := smtp.SendMail(addr, nil, "abuse@example.net", []string{"abuse@exit.example.org"}, []byte(msg)); err != nil {
		t.Fatalf("SMTP: %v", err)
	}
	// A recipient outside desk.smtp.recipients is refused.
	if err := smtp.SendMail(addr, nil, "abuse@example.net", []string{"someone@example.com"}, []byte(msg)); err == nil {
		t.Error("a mail for another domain was accepted")
	}
	var st deskCounts
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st = deskStats(t, bin, config); st.processed == 1 {
			break
		}
	}
	if st.messages != 1 || st.processed != 1 {
		t.Fatalf("stored %d, processed %d; want 1 and 1", st.messages, st.processed)
	}
	out, err := exec.Command(bin, "desk", "list", "--config", config).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "203.0.113.5") || !strings.Contains(string(out), "brute-force") {
		t.Fatalf("desk list: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "desk", "show", "1", "--config", config).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "exit-1") {
		t.Fatalf("desk show: %v\n%s", err, out)
	}
}
