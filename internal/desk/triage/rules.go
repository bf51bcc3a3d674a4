package triage

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"strings"

	"sortie.dev/sortie/internal/desk/parse"
)

// Action is what a sender rule, or the default, does with a mail.
type Action string

// The actions.
const (
	// ActionIgnore ignores the mail and counts it (for the yearly report).
	ActionIgnore Action = "ignore"
	// ActionQueue queues the mail for a volunteer.
	ActionQueue Action = "queue"
	// ActionAutoReply queues the mail and allows an automatic reply with the rule's
	// template, except to mail that RFC 3834 forbids answering automatically.
	ActionAutoReply Action = "auto-reply"
)

// Bounds of sender rules.
const (
	MaxRules      = 1000
	maxRuleField  = 1000
	maxBodyRegexp = 1000
	// MaxBodyMatch is how many bytes of a mail's text a Body rule reads.
	MaxBodyMatch = 1 << 20
)

// Rule is one of the operator's sender rules. Every condition given must match; at least one
// must be given. Matching is case-insensitive except for Body, which is the operator's RE2
// expression as written (use (?i) for case-insensitive).
type Rule struct {
	// Name identifies the rule in decisions and errors; required and unique.
	Name string `yaml:"name"`
	// From is a glob ('*', '?') on the From address ("*@reports.example.net"), or a bare
	// domain, which matches that domain and its subdomains ("example.net").
	From string `yaml:"from,omitempty"`
	// Header is "Name" (the header is present) or "Name: glob" (a value of the header
	// matches the glob).
	Header string `yaml:"header,omitempty"`
	// Body is an RE2 regular expression searched in the mail's text.
	Body string `yaml:"body,omitempty"`
	// Action is "ignore" (ignore and count), "queue" or "auto-reply".
	Action string `yaml:"action"`
	// Category, when set, is the category of mail this rule matches (for example "upstream"
	// for an upstream provider's domain); a structured report's own category wins over it.
	Category string `yaml:"category,omitempty"`
	// Template names the reply template; required with "auto-reply", refused otherwise.
	Template string `yaml:"template,omitempty"`
}

// ErrRule is wrapped by every error CompileRules returns.
var ErrRule = errors.New("invalid sender rule")

// Rules are compiled sender rules, tried in order; the first that matches wins. The zero
// value (and nil) holds no rules.
type Rules struct {
	list []compiledRule
}

type compiledRule struct {
	Rule
	action      Action
	category    parse.Category
	fromDomain  string // bare domain: matches it and its subdomains
	fromGlob    string
	headerName  string // canonical
	headerGlob  string
	headerValue bool
	body        *regexp.Regexp
}

// Len returns the number of rules.
func (r *Rules) Len() int {
	if r == nil {
		return 0
	}
	return len(r.list)
}

// CompileRules checks and compiles rules. The error lists every problem found, each naming
// its rule.
func CompileRules(rules []Rule) (*Rules, error) {
	if len(rules) > MaxRules {
		return nil, fmt.Errorf("%w: %d rules, at most %d allowed", ErrRule, len(rules), MaxRules)
	}
	out := &Rules{}
	var errs []error
	names := map[string]bool{}
	for i, r := range rules {
		c, err := compileRule(r)
		id := fmt.Sprintf("rule %d (%q)", i+1, r.Name)
		if r.Name != "" && names[strings.ToLower(r.Name)] {
			err = errors.Join(err, errors.New("name used by an earlier rule"))
		}
		names[strings.ToLower(r.Name)] = true
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrRule, id, err))
			continue
		}
		out.list = append(out.list, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func compileRule(r Rule) (compiledRule, error) {
	c := compiledRule{Rule: r}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, f := range []struct{ name, v string }{
		{"name", r.Name}, {"from", r.From}, {"header", r.Header}, {"template", r.Template},
	} {
		if len(f.v) > maxRuleField {
			add("%s is longer than %d bytes", f.name, maxRuleField)
		}
	}
	if strings.TrimSpace(r.Name) == "" {
		add("name is empty")
	}
	if r.From == "" && r.Header == "" && r.Body == "" {
		add("no condition: give from, header or body")
	}
	if err := c.compileFrom(); err != nil {
		errs = append(errs, err)
	}
	if err := c.compileHeader(); err != nil {
		errs = append(errs, err)
	}
	if err := c.compileBody(); err != nil {
		errs = append(errs, err)
	}
	switch Action(r.Action) {
	case ActionIgnore, ActionQueue, ActionAutoReply:
		c.action = Action(r.Action)
	case "":
		add("action is empty: want ignore, queue or auto-reply")
	default:
		add("action %q unknown: want ignore, queue or auto-reply", r.Action)
	}
	if c.action == ActionAutoReply && r.Template == "" {
		add("action auto-reply needs a template")
	}
	if c.action != ActionAutoReply && c.action != "" && r.Template != "" {
		add("template %q given, but only action auto-reply uses one", r.Template)
	}
	if r.Category != "" {
		c.category = parse.Category(r.Category)
		if !slices.Contains(parse.Categories, c.category) {
			add("category %q unknown: want one of %s", r.Category, categoryList())
		}
	}
	return c, errors.Join(errs...)
}

func (c *compiledRule) compileFrom() error {
	f := strings.ToLower(strings.TrimSpace(c.From))
	switch {
	case f == "":
	case strings.Contains(f, "@") || isGlob(f):
		if strings.ContainsAny(f, " \t<>") {
			return fmt.Errorf("from %q: a glob on the address holds no spaces or angle brackets", c.From)
		}
		c.fromGlob = f
	default:
		f = strings.TrimPrefix(f, ".")
		if !validDomain(f) {
			return fmt.Errorf("from %q is neither an address glob (with @ or *) nor a domain", c.From)
		}
		c.fromDomain = f
	}
	return nil
}

func (c *compiledRule) compileHeader() error {
	if c.Header == "" {
		return nil
	}
	name, value, hasValue := strings.Cut(c.Header, ":")
	name = strings.TrimSpace(name)
	if !validHeaderName(name) {
		return fmt.Errorf("header %q: %q is not a header name", c.Header, name)
	}
	c.headerName = textproto.CanonicalMIMEHeaderKey(name)
	if hasValue {
		c.headerValue = true
		c.headerGlob = strings.TrimSpace(value)
	}
	return nil
}

func (c *compiledRule) compileBody() error {
	if c.Body == "" {
		return nil
	}
	if len(c.Body) > maxBodyRegexp {
		return fmt.Errorf("body pattern is longer than %d bytes", maxBodyRegexp)
	}
	re, err := regexp.Compile(c.Body)
	if err != nil {
		return fmt.Errorf("body pattern: %w", err)
	}
	c.body = re
	return nil
}

// Match returns the first rule all of whose conditions match m.
func (r *Rules) Match(m *parse.Message) (Rule, Action, parse.Category, bool) {
	if r == nil || m == nil {
		return Rule{}, "", "", false
	}
	for _, c := range r.list {
		if c.matches(m) {
			return c.Rule, c.action, c.category, true
		}
	}
	return Rule{}, "", "", false
}

func (c *compiledRule) matches(m *parse.Message) bool {
	if c.fromGlob != "" && !globMatch(c.fromGlob, m.From) {
		return false
	}
	if c.fromDomain != "" && !inDomain(m.From, c.fromDomain) {
		return false
	}
	if c.headerName != "" && !c.headerMatches(m) {
		return false
	}
	if c.body != nil && !c.body.MatchString(bounded(m.Text, MaxBodyMatch)) {
		return false
	}
	return true
}

func (c *compiledRule) headerMatches(m *parse.Message) bool {
	values, ok := headerValues(m, c.headerName)
	if !ok {
		return false
	}
	if !c.headerValue {
		return true
	}
	for _, v := range values {
		if globMatch(c.headerGlob, strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}

// inDomain reports whether the address's domain is domain or one of its subdomains.
func inDomain(addr, domain string) bool {
	_, d, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok {
		return false
	}
	d = strings.TrimSuffix(d, ".")
	return d == domain || strings.HasSuffix(d, "."+domain)
}

func validDomain(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' {
			return false
		}
	}
	return true
}

func categoryList() string {
	var s []string
	for _, c := range parse.Categories {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

// bounded returns at most n bytes of s, cut at a rune boundary.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
