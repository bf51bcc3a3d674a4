// Package notice serves Sortie's public pages from configuration: the exit notice (who runs
// this exit, that it keeps no logs of connections, the abuse contact, how to have a
// destination excluded, a summary of the exit policy) and the block list as HTML and JSON. It
// is part of the data plane: it reads configuration only, keeps nothing about its visitors and
// logs nothing.
package notice

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"sortie.dev/sortie/internal/policy"
)

// DefaultBlockListURL is where the block list is linked from when Options.BlockListURL is empty.
const DefaultBlockListURL = "/blocklist"

// DefaultExclusionHowTo is the text on how to have a destination excluded, used when
// Operator.ExclusionHowTo is empty.
const DefaultExclusionHowTo = `If you run a service and do not want it reached through this exit, write to the abuse contact above. Name the host names or address ranges (and the ports, if only some services are concerned) and show that you run them, for example from an address of the same domain. We answer every request, and every destination we exclude is listed publicly on the block list with the reason.

You can also refuse connections from this exit's addresses on your side, at once and without asking us.`

// Operator is who runs the exit, as the exit notice shows it.
type Operator struct {
	Name         string // the person or organisation running the exit (required)
	Contact      string // the abuse contact: a mail address or an http(s) URL (required)
	Jurisdiction string // the country or law the operator answers to
	Website      string // the operator's web site (http or https), optional
	// ExclusionHowTo tells how to ask for a destination to be excluded; blank lines separate
	// paragraphs. Empty means DefaultExclusionHowTo.
	ExclusionHowTo string
	Language       string // the pages' language tag (BCP 47); empty means "en"
}

// Options is what Pages are built from.
type Options struct {
	Operator Operator
	// RingTTL is how long the RAM ring log holds operational events; 0 means none are kept.
	RingTTL time.Duration
	// Policy is the assembled exit policy, summarised on the notice, and its block list
	// (active and expired entries alike, as the policy validated them) is published; nil
	// leaves both out.
	Policy *policy.Policy
	// Now is the clock that decides which entries have expired; nil means time.Now.
	Now func() time.Time
	// BlockListURL is the path or URL the notice links the block list at; empty means
	// DefaultBlockListURL.
	BlockListURL string
}

// Pages serves the public pages. It is an immutable snapshot of its Options, safe for
// concurrent use; build a new one to reload.
type Pages struct {
	op        Operator
	howTo     []string // ExclusionHowTo paragraphs
	contact   string   // href for the contact
	ringTTL   time.Duration
	summary   *Summary
	blocks    []policy.Block // copies, newest decision first
	now       func() time.Time
	blockList string
	tmpl      *template.Template
}

// New checks o and builds Pages from a copy of it. It reports every problem at once.
func New(o Options) (*Pages, error) {
	p := &Pages{op: o.Operator, ringTTL: o.RingTTL, now: o.Now, blockList: o.BlockListURL}
	if p.now == nil {
		p.now = time.Now
	}
	if p.blockList == "" {
		p.blockList = DefaultBlockListURL
	}
	if p.op.Language == "" {
		p.op.Language = "en"
	}
	if strings.TrimSpace(p.op.ExclusionHowTo) == "" {
		p.op.ExclusionHowTo = DefaultExclusionHowTo
	}
	p.howTo = paragraphs(p.op.ExclusionHowTo)
	errs := p.check()
	if o.Policy != nil {
		s, err := Summarize(o.Policy)
		errs = append(errs, err)
		p.summary = &s
		p.blocks = newestFirst(o.Policy.Blocks())
	}
	tmpl, err := parseTemplates()
	p.tmpl = tmpl
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return p, nil
}

var languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// check validates the operator fields and fills p.contact.
func (p *Pages) check() []error {
	var errs []error
	if strings.TrimSpace(p.op.Name) == "" {
		errs = append(errs, errors.New("operator name is required"))
	}
	href, err := contactHref(p.op.Contact)
	p.contact = href
	errs = append(errs, err)
	if p.op.Website != "" && !isWebURL(p.op.Website) {
		errs = append(errs, errors.New("website must be an absolute http or https URL"))
	}
	if !languageTag.MatchString(p.op.Language) {
		errs = append(errs, errors.New("language must be a language tag such as en or pt-BR"))
	}
	if p.ringTTL < 0 {
		errs = append(errs, errors.New("ring TTL must not be negative"))
	}
	if !strings.HasPrefix(p.blockList, "/") && !isWebURL(p.blockList) {
		errs = append(errs, errors.New("block list URL must be a path starting with / or an http or https URL"))
	}
	return errs
}

// contactHref turns the abuse contact into a link: mailto: for a mail address.
func contactHref(c string) (string, error) {
	switch {
	case strings.TrimSpace(c) == "":
		return "", errors.New("operator contact is required")
	case isWebURL(c):
		return c, nil
	case strings.HasPrefix(c, "mailto:"):
		c = strings.TrimPrefix(c, "mailto:")
	}
	at := strings.LastIndexByte(c, '@')
	if at <= 0 || at == len(c)-1 || strings.ContainsAny(c, " \t\r\n<>\"") {
		return "", errors.New("operator contact must be a mail address or an http or https URL")
	}
	return "mailto:" + c, nil
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// paragraphs splits text on blank lines and joins each paragraph's lines with spaces.
func paragraphs(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p := strings.Join(strings.Fields(para), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newestFirst orders block entries newest decision first, then by ID.
func newestFirst(blocks []policy.Block) []policy.Block {
	slices.SortStableFunc(blocks, func(a, b policy.Block) int {
		if c := b.Decided.Compare(a.Decided); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return blocks
}
