package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Block is one block-list entry: a destination the operator decided not to serve, with the
// public record of that decision. Every field but Expires, Review, IncludeSubdomains, Port and
// BlockedBy is required, and exactly one of Domain and Prefix.
type Block struct {
	ID        string    // stable identifier, shown on the notice
	Reason    string    // the public reason
	Basis     string    // court order, law, terms, emergency...
	DecidedBy string    // a role, never a person
	Decided   time.Time // when it was decided
	NoticeURL string    // the public notice (http or https)
	// Expires, when set, is the moment the entry stops applying; Decide compares it with
	// Query.Now, so expired entries need no reload to lapse.
	Expires *time.Time
	// Review, when set, is the date the decision is to be reviewed (informational).
	Review *time.Time
	// Domain is a host name to block (any spelling NormalizeHost accepts).
	Domain string
	// IncludeSubdomains extends a Domain entry to every name under it.
	IncludeSubdomains bool
	// Prefix is an address range to block.
	Prefix netip.Prefix
	// Port limits the entry to one destination port; 0 means every port.
	Port uint16
	// BlockedBy names who blocks, for the HTTP `Link: <...>; rel="blocked-by"` header;
	// New fills it from Options.BlockedBy when empty.
	BlockedBy string
}

// Validate reports every missing or malformed field at once. Its messages name the entry by
// ID (or position when the ID is missing), never a user's destination.
func (b *Block) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, f := range []struct{ name, v string }{
		{name: "id", v: b.ID}, {name: "reason", v: b.Reason}, {name: "basis", v: b.Basis},
		{name: "decided_by", v: b.DecidedBy}, {name: "notice_url", v: b.NoticeURL},
	} {
		if strings.TrimSpace(f.v) == "" {
			add("%s is required", f.name)
		}
	}
	if b.Decided.IsZero() {
		add("decided is required")
	}
	if b.NoticeURL != "" && !isWebURL(b.NoticeURL) {
		add("notice_url must be an absolute http or https URL")
	}
	if b.Expires != nil && !b.Expires.After(b.Decided) {
		add("expires must be after decided")
	}
	errs = append(errs, b.validateTarget()...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("block %q: %w", b.ID, err)
	}
	return nil
}

func (b *Block) validateTarget() []error {
	hasDomain, hasPrefix := b.Domain != "", b.Prefix.IsValid()
	switch {
	case hasDomain && hasPrefix:
		return []error{errors.New("give exactly one of domain and prefix, not both")}
	case !hasDomain && !hasPrefix:
		return []error{errors.New("one of domain or prefix is required")}
	case hasPrefix && b.IncludeSubdomains:
		return []error{errors.New("include_subdomains applies to a domain, not a prefix")}
	case hasPrefix:
		return nil
	}
	if strings.HasPrefix(b.Domain, "*.") {
		return []error{errors.New("domain must be a name: write example.org with include_subdomains instead of *.example.org")}
	}
	name, addr, err := NormalizeHost(b.Domain)
	if err != nil {
		return []error{fmt.Errorf("domain: %w", err)}
	}
	if name == "" || addr.IsValid() {
		return []error{errors.New("domain is an address: use prefix for addresses")}
	}
	return nil
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Active reports whether the entry applies at now: it has not expired.
func (b *Block) Active(now time.Time) bool {
	return b.Expires == nil || now.Before(*b.Expires)
}

// matchesPort reports whether the entry covers port.
func (b *Block) matchesPort(port uint16) bool {
	return b.Port == 0 || b.Port == port
}

// Refusal returns the entry's public fields for a Blocked refusal.
func (b *Block) Refusal() *refusal.Block {
	return &refusal.Block{
		ID:        b.ID,
		Reason:    b.Reason,
		Basis:     b.Basis,
		DecidedBy: b.DecidedBy,
		Decided:   b.Decided,
		NoticeURL: b.NoticeURL,
		BlockedBy: b.BlockedBy,
	}
}
