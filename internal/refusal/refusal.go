// Package refusal names why Sortie refused or failed a request. Egress and policy decide a
// Reason; the gateway turns it into the protocol's answer (an HTTP status, a SOCKS reply code).
// It is the one vocabulary both halves of a request share, so it imports nothing of Sortie's.
package refusal

import (
	"errors"
	"fmt"
	"time"
)

// Reason says why a request was refused or could not be completed. The zero value is Unknown.
type Reason uint8

// The reasons, one per row of the answer table in docs/protocols.md.
const (
	Unknown         Reason = iota // an internal failure without a better name
	Malformed                     // the client's request could not be parsed
	Unsupported                   // method or command not supported
	AddrType                      // SOCKS address type not supported
	Auth                          // authentication missing or wrong
	Policy                        // exit policy: port, special-purpose range, own address
	Blocked                       // a block-list entry
	RateLimited                   // per-client rate limit or attack pattern
	Capacity                      // gateway at capacity
	NXDomain                      // the name does not exist
	DNSFailure                    // the resolver failed
	DNSTimeout                    // the resolver timed out
	Refused                       // the destination refused the connection
	NetUnreach                    // network unreachable
	HostUnreach                   // host unreachable
	DialTimeout                   // the dial timed out
	NoRoute                       // a routed suffix (.onion, .i2p) with no upstream configured
	UpstreamFailure               // an upstream proxy (Tor, i2pd) down or refusing
	numReasons
)

var reasonNames = [numReasons]string{
	Unknown:         "unknown",
	Malformed:       "malformed",
	Unsupported:     "unsupported",
	AddrType:        "address_type",
	Auth:            "auth",
	Policy:          "policy",
	Blocked:         "blocked",
	RateLimited:     "rate_limited",
	Capacity:        "capacity",
	NXDomain:        "nxdomain",
	DNSFailure:      "dns_failure",
	DNSTimeout:      "dns_timeout",
	Refused:         "refused",
	NetUnreach:      "net_unreachable",
	HostUnreach:     "host_unreachable",
	DialTimeout:     "dial_timeout",
	NoRoute:         "no_route",
	UpstreamFailure: "upstream_failure",
}

// String returns the reason's stable snake_case name, fit for a metric label.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Reasons returns every reason, in order; metrics use it to pre-create their label values.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// Block describes the block-list entry behind a Blocked refusal: its public fields only.
type Block struct {
	ID        string // the entry's identifier
	Reason    string // the public reason
	Basis     string // court order, law, terms, emergency...
	DecidedBy string // a role, never a person
	Decided   time.Time
	NoticeURL string // the public notice
	BlockedBy string // who blocks, for the Link: <...>; rel="blocked-by" header
}

// Error is a refusal with its reason and a short public message. Message is shown to the
// client: it never names the client, and never the internal rule text of a special range.
type Error struct {
	Reason     Reason
	Message    string        // plain words for the client; empty means the reason's default
	RetryAfter time.Duration // for RateLimited and Capacity; zero means none
	Block      *Block        // for Blocked
	Err        error         // the underlying cause, for errors.Is; never shown to the client
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Reason.String() + ": " + e.Message
	}
	return e.Reason.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns a refusal with a reason and a public message.
func New(r Reason, message string) *Error { return &Error{Reason: r, Message: message} }

// Wrap returns a refusal with a reason and an underlying cause kept out of public view.
func Wrap(r Reason, message string, err error) *Error {
	return &Error{Reason: r, Message: message, Err: err}
}

// ReasonOf returns the reason carried by err, or Unknown when err carries none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return Unknown
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
