package triage

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"sortie.dev/sortie/internal/desk/parse"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*@example.net", "abuse@example.net", true},
		{"*@example.net", "abuse@mail.example.net", false},
		{"*@*.example.net", "abuse@mail.example.net", true},
		{"abuse-?@example.org", "abuse-1@example.org", true},
		{"abuse-?@example.org", "abuse-12@example.org", false},
		{"NoReply*", "noreply-bot@example.com", true},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "x", false},
		{"ü*", "Übung", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCompileRulesErrors(t *testing.T) {
	rules := []Rule{
		{Name: "ok", From: "example.net", Action: "queue"},
		{Name: "", From: "example.net", Action: "queue"},
		{Name: "no-condition", Action: "ignore"},
		{Name: "bad-action", From: "example.net", Action: "delete"},
		{Name: "reply-without-template", From: "example.net", Action: "auto-reply"},
		{Name: "template-unused", From: "example.net", Action: "queue", Template: "x"},
		{Name: "bad-regexp", Body: "(unclosed", Action: "queue"},
		{Name: "bad-category", From: "example.net", Action: "queue", Category: "lunch"},
		{Name: "bad-header", Header: "Bad Header: x", Action: "queue"},
		{Name: "bad-from", From: "not a domain", Action: "queue"},
		{Name: "ok", From: "example.org", Action: "queue"},
	}
	_, err := CompileRules(rules)
	if !errors.Is(err, ErrRule) {
		t.Fatalf("error %v, want ErrRule", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`rule 2 (""): name is empty`,
		`rule 3 ("no-condition"): no condition`,
		`rule 4 ("bad-action"): action "delete" unknown`,
		`rule 5 ("reply-without-template"): action auto-reply needs a template`,
		`rule 6 ("template-unused"): template "x" given`,
		`rule 7 ("bad-regexp"): body pattern`,
		`rule 8 ("bad-category"): category "lunch" unknown`,
		`rule 9 ("bad-header"): header`,
		`rule 10 ("bad-from"): from "not a domain"`,
		`rule 11 ("ok"): name used by an earlier rule`,
	} {
		if !contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if contains(msg, `rule 1 (`) {
		t.Errorf("error blames the valid first rule:\n%s", msg)
	}
}

func TestRulesMatch(t *testing.T) {
	rules, err := CompileRules([]Rule{
		{Name: "hoster", From: "hoster.example.net", Action: "queue", Category: "upstream"},
		{Name: "blocklist", From: "*@reports.example.org", Header: "X-Report-Kind: scan*", Action: "ignore"},
		{Name: "fail2ban-bots", Header: "X-Fail2ban", Body: `(?i)banned for \d+ seconds`, Action: "ignore"},
		{Name: "friendly", From: "*@friends.example.com", Action: "auto-reply", Template: "thanks"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    parse.Message
		want string
	}{
		{name: "domain", m: parse.Message{From: "abuse@hoster.example.net"}, want: "hoster"},
		{name: "subdomain", m: parse.Message{From: "noc@eu.hoster.example.net"}, want: "hoster"},
		{name: "lookalike-domain", m: parse.Message{From: "abuse@evilhoster.example.net"}, want: ""},
		{name: "glob-and-header", m: parse.Message{From: "bot@reports.example.org",
			Header: mail.Header{"X-Report-Kind": {"Scanning"}}}, want: "blocklist"},
		{name: "glob-header-value-mismatch", m: parse.Message{From: "bot@reports.example.org",
			Header: mail.Header{"X-Report-Kind": {"spam"}}}, want: ""},
		{name: "glob-header-missing", m: parse.Message{From: "bot@reports.example.org"}, want: ""},
		{name: "header-case", m: parse.Message{From: "x@example.com",
			Header: mail.Header{"x-fail2ban": {"1"}}, Text: "host BANNED for 600 seconds"}, want: "fail2ban-bots"},
		{name: "body-mismatch", m: parse.Message{From: "x@example.com",
			Header: mail.Header{"X-Fail2ban": {"1"}}, Text: "hello"}, want: ""},
		{name: "no-from", m: parse.Message{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _, ok := rules.Match(&tt.m)
			if ok != (tt.want != "") || r.Name != tt.want {
				t.Errorf("matched %q %v, want %q", r.Name, ok, tt.want)
			}
		})
	}
	var none *Rules
	if _, _, _, ok := none.Match(&parse.Message{From: "a@hoster.example.net"}); ok || none.Len() != 0 {
		t.Error("nil Rules matched")
	}
}
