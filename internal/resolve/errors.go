package resolve

import (
	"context"
	"errors"
	"net"
)

// outcome is how one question ended; its String is the answers_total label.
type outcome uint8

const (
	outSuccess outcome = iota
	outNoData
	outNXDomain
	outServFail
	outRefused
	outFormErr
	outNotImpl
	outTimeout
	outError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	outSuccess:  "success",
	outNoData:   "nodata",
	outNXDomain: "nxdomain",
	outServFail: "servfail",
	outRefused:  "refused",
	outFormErr:  "formerr",
	outNotImpl:  "notimpl",
	outTimeout:  "timeout",
	outError:    "error",
}

func (o outcome) String() string { return outcomeNames[o] }

// errNotFound is the text of Go's own resolver for NXDOMAIN and NODATA.
var errNotFound = errors.New("no such host")

// err returns the sentinel of a failed outcome.
func (o outcome) err() error {
	switch o {
	case outNoData, outNXDomain:
		return errNotFound
	case outServFail:
		return ErrServFail
	case outRefused:
		return ErrRefused
	case outFormErr:
		return ErrFormat
	case outNotImpl:
		return ErrNotImpl
	case outTimeout:
		return ErrTimeout
	}
	return ErrUpstream
}

// dnsError wraps cause in the *net.DNSError callers of a resolver expect. Its text names the
// host only through net.DNSError's own format.
func dnsError(host string, cause error) *net.DNSError {
	e := &net.DNSError{Err: cause.Error(), Name: host, UnwrapErr: cause}
	switch {
	case errors.Is(cause, errNotFound), errors.Is(cause, ErrNeverResolve), errors.Is(cause, ErrInvalidName):
		e.IsNotFound = true
	case errors.Is(cause, ErrTimeout), errors.Is(cause, context.DeadlineExceeded):
		e.IsTimeout = true
		e.IsTemporary = true
	case errors.Is(cause, ErrServFail), errors.Is(cause, ErrUpstream):
		e.IsTemporary = true
	}
	if errors.Is(cause, errNotFound) {
		e.UnwrapErr = nil // like Go's resolver: nothing to unwrap for "no such host"
	}
	return e
}
