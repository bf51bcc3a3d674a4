package policy

import (
	"fmt"
	"strings"
)

// The names of the built-in base policies (Options.Base).
const (
	BaseDefault   = "default"    // Tor's default exit policy: a few abused ports rejected, the rest accepted
	BaseReduced   = "reduced"    // Tor's reduced exit policy: a list of common service ports accepted
	BaseRejectAll = "reject-all" // nothing but what the operator's lines accept
)

// defaultPolicy is Tor's default exit policy (DEFAULT_EXIT_POLICY in Tor's policies.c).
const defaultPolicy = `reject *:25
reject *:119
reject *:135-139
reject *:445
reject *:563
reject *:1214
reject *:4661-4666
reject *:6346-6429
reject *:6699
reject *:6881-6999
accept *:*`

// reducedPorts are the ports and ranges Tor's reduced exit policy accepts
// (https://community.torproject.org/relay/setup/exit/ ReducedExitPolicy).
var reducedPorts = []string{
	"20-23", "43", "53", "79-81", "88", "110", "143", "194", "220", "389", "443", "464", "465",
	"531", "543-544", "554", "563", "587", "636", "706", "749", "873", "902-904", "981",
	"989-995", "1194", "1220", "1293", "1500", "1533", "1677", "1723", "1755", "1863",
	"2082-2083", "2086-2087", "2095-2096", "2102-2104", "3128", "3389", "3690", "4321", "4643",
	"5050", "5190", "5222-5223", "5228", "5900", "6660-6669", "6679", "6697", "8000", "8008",
	"8074", "8080", "8082", "8087-8088", "8232-8233", "8332-8333", "8443", "8888", "9418",
	"9999", "10000", "11371", "19294", "19638", "50002", "64738",
}

func reducedPolicy() string {
	var b strings.Builder
	for _, p := range reducedPorts {
		b.WriteString("accept *:" + p + "\n")
	}
	b.WriteString("reject *:*")
	return b.String()
}

// Builtin returns a built-in base policy by name: "default", "reduced" or "reject-all".
// The empty name means "default".
func Builtin(name string) ([]Rule, error) {
	var text string
	switch name {
	case "", BaseDefault:
		text = defaultPolicy
	case BaseReduced:
		text = reducedPolicy()
	case BaseRejectAll:
		text = "reject *:*"
	default:
		return nil, fmt.Errorf("unknown base policy %q: want %s, %s or %s", name, BaseDefault, BaseReduced, BaseRejectAll)
	}
	rules, err := ParseRules(text)
	if err != nil {
		return nil, fmt.Errorf("built-in policy %q: %w", name, err)
	}
	for i := range rules {
		rules[i].Source = "base " + nameOr(name, BaseDefault)
	}
	return rules, nil
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
