package egress

import (
	"context"
	"errors"
	"net"
	"syscall"

	"sortie.dev/sortie/internal/refusal"
)

// Public messages: plain words, never a host, address or port.
const (
	msgMalformed   = "malformed destination"
	msgPolicy      = "destination not allowed"
	msgNXDomain    = "the name does not exist"
	msgDNSTimeout  = "name lookup timed out"
	msgDNSFailure  = "name lookup failed"
	msgRefused     = "connection refused"
	msgNetUnreach  = "network unreachable"
	msgHostUnreach = "host unreachable"
	msgDialTimeout = "connection timed out"
	msgDialFailure = "connection failed"
	msgCancelled   = "request cancelled"
)

// asRefusal returns err's *refusal.Error, or wraps err in one with reason r.
func asRefusal(err error, r refusal.Reason, message string) *refusal.Error {
	if re := refusal.As(err); re != nil {
		return re
	}
	return refusal.Wrap(r, message, err)
}

// classifyDial names the reason a connection attempt failed.
func classifyDial(err error) *refusal.Error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return refusal.Wrap(refusal.Refused, msgRefused, err)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return refusal.Wrap(refusal.HostUnreach, msgHostUnreach, err)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL),
		errors.Is(err, syscall.ENETDOWN):
		return refusal.Wrap(refusal.NetUnreach, msgNetUnreach, err)
	case errors.Is(err, context.Canceled):
		return refusal.Wrap(refusal.Unknown, msgCancelled, err)
	case isTimeout(err), errors.Is(err, syscall.ETIMEDOUT):
		return refusal.Wrap(refusal.DialTimeout, msgDialTimeout, err)
	}
	return refusal.Wrap(refusal.Unknown, msgDialFailure, err)
}

// classifyDNS names the reason a lookup failed.
func classifyDNS(err error) *refusal.Error {
	var de *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return refusal.Wrap(refusal.Unknown, msgCancelled, err)
	case errors.As(err, &de) && de.IsNotFound:
		return refusal.Wrap(refusal.NXDomain, msgNXDomain, err)
	case isTimeout(err):
		return refusal.Wrap(refusal.DNSTimeout, msgDNSTimeout, err)
	}
	return refusal.Wrap(refusal.DNSFailure, msgDNSFailure, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// rank orders failures: when attempts fail differently, Dial reports the highest. A refusal
// by the destination says most (the host is there); a timeout beats "network unreachable",
// which is typical of one address family only.
func rank(r refusal.Reason) int {
	switch r {
	case refusal.Refused:
		return 6
	case refusal.HostUnreach:
		return 5
	case refusal.DialTimeout:
		return 4
	case refusal.NetUnreach:
		return 3
	case refusal.Blocked:
		return 2 // a block notice says more than a special range
	case refusal.DNSTimeout:
		return 3
	case refusal.DNSFailure:
		return 2
	case refusal.NXDomain:
		return 1 // also NODATA of one family: any other DNS error says more
	}
	return 0
}

// better reports whether a should replace b as the error Dial reports.
func better(a, b *refusal.Error) bool {
	return b == nil || rank(a.Reason) > rank(b.Reason)
}
