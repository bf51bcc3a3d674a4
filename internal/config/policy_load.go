package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"sortie.dev/sortie/internal/policy"
)

// Include is the content of a file named in policy.include: more rules and block-list
// entries, with the keys of the policy section.
type Include struct {
	// Rules are more exit-policy lines, after the configuration's own.
	Rules []string `yaml:"rules"`
	// Blocklist holds more block-list entries.
	Blocklist []Block `yaml:"blocklist"`
}

// includedFile is one policy include as loaded, with the lines of its keys.
type includedFile struct {
	path string
	Include
	src *source
}

// bases are the built-in policies by name.
var bases = []string{policy.BaseDefault, policy.BaseReduced, policy.BaseRejectAll}

// loadIncludes reads every policy include, reporting its problems with its own file and
// lines into p.
func (c *Config) loadIncludes(p *problems) {
	c.Policy.included = nil
	dir := "."
	if c.src != nil && c.src.file != "" {
		dir = filepath.Dir(c.src.file)
	}
	for i, name := range c.Policy.Include {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := readConfigFile(path)
		if err != nil {
			p.add("policy.include["+strconv.Itoa(i)+"]", "%v", unwrapPathError(err))
			continue
		}
		inc := includedFile{path: path, src: &source{file: path, lines: map[string]int{}}}
		ip := newProblems(inc.src)
		decodeFile(data, path, reflect.ValueOf(&inc.Include).Elem(), ip)
		validatePolicyLists(ip, "", inc.Rules, inc.Blocklist)
		p.errs = append(p.errs, ip.errs...)
		p.extra += ip.extra
		c.Policy.included = append(c.Policy.included, inc)
	}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// validatePolicy checks the policy section of the configuration itself.
func (c *Config) validatePolicy(p *problems) {
	found := c.Policy.Base == "" // the policy package reads "" as default
	for _, b := range bases {
		found = found || c.Policy.Base == b
	}
	if !found {
		p.add("policy.base", "want one of %q, got %q", bases, c.Policy.Base)
	}
	validatePolicyLists(p, "policy.", c.Policy.Rules, c.Policy.Blocklist)
	if len(c.Policy.Blocklist) > 0 && c.Policy.BlockedBy == "" {
		p.add("policy.blocked_by", "want the URL of who blocks (for the Link: rel=\"blocked-by\" header) when the block list is not empty")
	}
}

// validateNotice checks the public pages' section.
func (c *Config) validateNotice(p *problems) {
	n := c.Notice
	if (n.Operator == "") != (n.Contact == "") || len(n.Listeners) > 0 && n.Operator == "" {
		p.add("notice", "want both operator and contact to publish the exit notice")
	}
	if n.Contact != "" && !strings.Contains(n.Contact, "@") && !isWebURL(n.Contact) {
		p.add("notice.contact", "want a mail address or an http(s) URL, got %q", n.Contact)
	}
	if n.Website != "" && !isWebURL(n.Website) {
		p.add("notice.website", "want an http(s) URL, got %q", n.Website)
	}
	if c.Policy.BlockedBy != "" && !isWebURL(c.Policy.BlockedBy) {
		p.add("policy.blocked_by", "want an http(s) URL, got %q", c.Policy.BlockedBy)
	}
	for i, a := range n.Listeners {
		if !a.IsValid() {
			p.add("notice.listeners["+strconv.Itoa(i)+"]", "want ip:port such as 203.0.113.5:80")
		}
	}
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validatePolicyLists checks rule lines and block entries, under prefix ("policy." or "" in
// an include), each problem at its own key's line.
func validatePolicyLists(p *problems, prefix string, rules []string, blocks []Block) {
	for i, text := range rules {
		if _, err := policy.ParseRules(text); err != nil {
			var se *policy.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = fmt.Sprintf("column %d: %s", se.Col, se.Msg)
			}
			p.add(prefix+"rules["+strconv.Itoa(i)+"]", "%s", msg)
		}
	}
	for i, b := range blocks {
		pb := b.policyBlock()
		if err := pb.Validate(); err != nil {
			p.add(prefix+"blocklist["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
}

// policyBlock converts an entry to the policy package's type.
func (b Block) policyBlock() policy.Block {
	pb := policy.Block{
		ID: b.ID, Reason: b.Reason, Basis: b.Basis, DecidedBy: b.DecidedBy,
		Decided: b.Decided.Time, NoticeURL: b.NoticeURL,
		Domain: b.Domain, IncludeSubdomains: b.Subdomains, Prefix: b.Prefix, Port: b.Port,
	}
	if !b.Expires.IsZero() {
		t := b.Expires.Time
		pb.Expires = &t
	}
	if !b.Review.IsZero() {
		t := b.Review.Time
		pb.Review = &t
	}
	return pb
}

// PolicyRules returns every operator rule, the configuration's own first, then each
// include's, parsed and marked with the file and line they came from.
func (c *Config) PolicyRules() []policy.Rule {
	var out []policy.Rule
	add := func(src *source, prefix string, lines []string) {
		for i, text := range lines {
			rules, err := policy.ParseRules(text)
			if err != nil {
				continue // Validate reported it
			}
			for _, r := range rules {
				if src != nil {
					r.Source = src.file
					r.Line = src.line(prefix + "rules[" + strconv.Itoa(i) + "]")
				}
				out = append(out, r)
			}
		}
	}
	add(c.src, "policy.", c.Policy.Rules)
	for _, inc := range c.Policy.included {
		add(inc.src, "", inc.Rules)
	}
	return out
}

// PolicyBlocks returns every block-list entry, the configuration's own first, then each
// include's.
func (c *Config) PolicyBlocks() []policy.Block {
	var out []policy.Block
	for _, b := range c.Policy.Blocklist {
		out = append(out, b.policyBlock())
	}
	for _, inc := range c.Policy.included {
		for _, b := range inc.Blocklist {
			out = append(out, b.policyBlock())
		}
	}
	return out
}

// PolicyOptions assembles the policy package's options from the configuration and the
// gateway's own listener addresses.
func (c *Config) PolicyOptions(own []netip.AddrPort) policy.Options {
	return policy.Options{
		IPv6Exit:     c.Policy.IPv6Exit,
		OwnPorts:     own,
		Rules:        c.PolicyRules(),
		Base:         c.Policy.Base,
		AllowSpecial: c.Egress.AllowSpecial,
		Blocks:       c.PolicyBlocks(),
		BlockedBy:    c.Policy.BlockedBy,
	}
}
