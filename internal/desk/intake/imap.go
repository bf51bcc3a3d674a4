package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Defaults of IMAPOptions.
const (
	DefaultIMAPInterval = 60 * time.Second
	DefaultIMAPTimeout  = 30 * time.Second
	DefaultIMAPFolder   = "INBOX"
)

// The TLS modes of IMAPOptions.TLS.
const (
	TLSNone     = "none"     // plain text: only for a server on this machine
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS before login
	TLSImplicit = "tls"      // TLS from the first byte (port 993)
)

// Bounds of one poll.
const (
	imapMaxPerPoll  = 5000     // unseen messages taken per poll; the rest wait for the next
	imapSizeChunk   = 200      // messages whose sizes are asked at once
	imapFetchBatch  = 20       // messages fetched at once
	imapBatchBytes  = 32 << 20 // bytes fetched at once (one message may exceed it alone)
	imapMaxBackoff  = 5 * time.Minute
	imapBackoffBase = 5 * time.Second
)

// IMAPOptions say which IMAP folder to poll and how.
type IMAPOptions struct {
	// Address is the server's host:port.
	Address string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit; empty means TLSImplicit.
	TLS string
	// Username and Password log in (IMAP LOGIN).
	Username string
	Password string
	// Folder is polled for unseen mail; empty means INBOX.
	Folder string
	// MoveTo, when set, is the folder each stored message is moved to (UID MOVE);
	// otherwise stored messages are flagged \Seen where they are.
	MoveTo string
	// Interval is the time between polls; zero means DefaultIMAPInterval.
	Interval time.Duration
	// MaxMessageBytes caps one message: a larger one is not downloaded and stays unseen,
	// logged once. Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// Timeout bounds each network step (connect, each command, each stretch without data);
	// zero means DefaultIMAPTimeout.
	Timeout time.Duration
	// Dial makes the connection; nil means a net.Dialer. Tests dial into a namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig configures TLS; nil means the system roots and the host of Address.
	TLSConfig *tls.Config
	// Log receives problems, each message's once; nil means slog.Default().
	Log *slog.Logger
}

// IMAPPoller takes unseen mail from an IMAP folder: each message is fetched without
// setting \Seen (BODY.PEEK[]), delivered with the key "UIDVALIDITY/UID", and only then
// flagged \Seen or moved. A message the sink refuses stays unseen and is tried again at
// the next poll.
type IMAPPoller struct {
	sink   Sink
	opts   IMAPOptions
	max    int64
	log    *slog.Logger
	logged onceSet
}

// NewIMAPPoller checks the options and returns a poller; it does not connect yet.
func NewIMAPPoller(sink Sink, opts IMAPOptions) (*IMAPPoller, error) {
	max, err := maxBytes(opts.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	var errs []error
	if opts.Address == "" {
		errs = append(errs, errors.New("no address"))
	} else if _, _, err := net.SplitHostPort(opts.Address); err != nil {
		errs = append(errs, fmt.Errorf("address %q: %w", opts.Address, err))
	}
	switch opts.TLS {
	case "":
		opts.TLS = TLSImplicit
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("TLS mode %q is none of %q, %q, %q", opts.TLS, TLSNone, TLSStartTLS, TLSImplicit))
	}
	if opts.Username == "" {
		errs = append(errs, errors.New("no username"))
	}
	if opts.Interval < 0 || opts.Timeout < 0 {
		errs = append(errs, errors.New("negative interval or timeout"))
	}
	if opts.Folder == "" {
		opts.Folder = DefaultIMAPFolder
	}
	if opts.MoveTo != "" && opts.MoveTo == opts.Folder {
		errs = append(errs, fmt.Errorf("move-to folder %q is the polled folder", opts.MoveTo))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("intake: imap: %w", err)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultIMAPInterval
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultIMAPTimeout
	}
	if opts.Dial == nil {
		opts.Dial = (&net.Dialer{}).DialContext
	}
	return &IMAPPoller{sink: sink, opts: opts, max: max, log: logger(opts.Log)}, nil
}

// Poll connects, takes the folder's unseen mail, and logs out. It returns an error when
// the connection or a command fails; messages the sink refused are counted, not errors.
func (p *IMAPPoller) Poll(ctx context.Context) (Counts, error) {
	s, err := p.connect(ctx)
	if err != nil {
		return Counts{}, fmt.Errorf("intake: imap %s: %w", p.opts.Address, err)
	}
	defer s.close()
	c, err := s.poll(ctx)
	if err != nil {
		return c, fmt.Errorf("intake: imap %s: %w", p.opts.Address, err)
	}
	return c, nil
}

// Run polls at once and then every interval until ctx is done, and then returns nil. After
// a failed poll it tries again sooner, backing off from 5 seconds to 5 minutes.
func (p *IMAPPoller) Run(ctx context.Context) error {
	var backoff time.Duration
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		_, err := p.Poll(ctx)
		wait := p.opts.Interval
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = nextBackoff(backoff)
			wait = backoff
			p.log.Warn("imap: poll failed", "err", err, "retry_in", wait)
		case backoff != 0:
			backoff = 0
			p.log.Info("imap: polling again", "address", p.opts.Address)
		}
		t.Reset(wait)
	}
}

// nextBackoff doubles the wait after a failure, from imapBackoffBase to imapMaxBackoff.
func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return imapBackoffBase
	}
	return min(2*d, imapMaxBackoff)
}
