package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"
)

// Defaults of SMTPOptions.
const (
	DefaultSMTPMaxRecipients  = 50
	DefaultSMTPRatePerMinute  = 30
	DefaultSMTPMaxClients     = 4096
	DefaultSMTPMaxConnections = 100
	DefaultSMTPReadTimeout    = 5 * time.Minute
	DefaultSMTPWriteTimeout   = time.Minute
	DefaultSMTPDeliverTimeout = time.Minute
)

// SMTPOptions configure the SMTP listener for abuse@.
type SMTPOptions struct {
	// Address is where ListenAndServe listens (host:port).
	Address string
	// Hostname is the name in the greeting; empty means the machine's name.
	Hostname string
	// MaxMessageBytes caps a message (announced with SIZE, 552 when over); zero means
	// DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxRecipients caps RCPT TO per message; zero means DefaultSMTPMaxRecipients.
	MaxRecipients int
	// Recipients lists the accepted addresses ("abuse@example.org") and domains
	// ("@example.org"), case-insensitive; empty accepts any recipient.
	Recipients []string
	// RatePerMinute caps the messages each client (IPv4 address, IPv6 /64) may send a
	// minute, in bursts of up to as many; zero means DefaultSMTPRatePerMinute, negative no
	// limit.
	RatePerMinute int
	// MaxClients caps the clients whose rate is tracked at once; zero means
	// DefaultSMTPMaxClients.
	MaxClients int
	// MaxConnections caps the connections served at once; zero means
	// DefaultSMTPMaxConnections.
	MaxConnections int
	// ReadTimeout bounds the wait for each command and for a whole message's data;
	// WriteTimeout each answer; DeliverTimeout the store's commit. Zero means the defaults.
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	DeliverTimeout time.Duration
	// TLSConfig, when set, offers STARTTLS.
	TLSConfig *tls.Config
	// Log receives problems; nil means slog.Default().
	Log *slog.Logger
}

// SMTPServer takes complaint mail by SMTP and answers 250 only once the message is
// committed: a sink that fails gets the client a 451 (try again later), never a 250.
type SMTPServer struct {
	srv     *smtp.Server
	sink    Sink
	opts    SMTPOptions
	max     int64
	limits  *clientLimits // nil: no rate limit
	accepts recipients
	log     *slog.Logger
}

// NewSMTPServer checks the options and returns a server; Serve or ListenAndServe runs it.
func NewSMTPServer(sink Sink, opts SMTPOptions) (*SMTPServer, error) {
	max, err := maxBytes(opts.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	accepts, err := parseRecipients(opts.Recipients)
	if err != nil {
		return nil, err
	}
	if opts.MaxRecipients < 0 || opts.MaxClients < 0 || opts.MaxConnections < 0 ||
		opts.ReadTimeout < 0 || opts.WriteTimeout < 0 || opts.DeliverTimeout < 0 {
		return nil, errors.New("intake: smtp: negative limit or timeout")
	}
	setDefaults(&opts)
	s := &SMTPServer{sink: sink, opts: opts, max: max, accepts: accepts, log: logger(opts.Log)}
	if opts.RatePerMinute > 0 {
		s.limits = newClientLimits(opts.RatePerMinute, opts.MaxClients)
	}
	srv := smtp.NewServer(backend{s})
	srv.Addr = opts.Address
	srv.Domain = opts.Hostname
	// go-smtp refuses a message of exactly its limit (it asks for one byte more before it
	// sees the end); one byte of slack takes it, and Data caps at max itself.
	srv.MaxMessageBytes = max + 1
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = 2000 // RFC 5321 asks for 1000; some senders go a little over
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.TLSConfig = opts.TLSConfig
	srv.ErrorLog = slogPrinter{s.log}
	s.srv = srv
	return s, nil
}

func setDefaults(o *SMTPOptions) {
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	defaults := []struct {
		v   *int
		def int
	}{
		{&o.MaxRecipients, DefaultSMTPMaxRecipients},
		{&o.RatePerMinute, DefaultSMTPRatePerMinute},
		{&o.MaxClients, DefaultSMTPMaxClients},
		{&o.MaxConnections, DefaultSMTPMaxConnections},
	}
	for _, d := range defaults {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	durations := []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.ReadTimeout, DefaultSMTPReadTimeout},
		{&o.WriteTimeout, DefaultSMTPWriteTimeout},
		{&o.DeliverTimeout, DefaultSMTPDeliverTimeout},
	}
	for _, d := range durations {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
}

// Serve answers the connections ln accepts, at most MaxConnections at once, until Close or
// Shutdown; it then returns nil.
func (s *SMTPServer) Serve(ln net.Listener) error {
	return s.srv.Serve(netutil.LimitListener(ln, s.opts.MaxConnections))
}

// ListenAndServe listens on Address and serves; see Serve.
func (s *SMTPServer) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.opts.Address)
	if err != nil {
		return fmt.Errorf("intake: smtp: %w", err)
	}
	return s.Serve(ln)
}

// Close stops listening and closes every connection at once. A message being committed at
// that moment is committed or not; its client got no 250 and will send it again.
func (s *SMTPServer) Close() error {
	if err := s.srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return fmt.Errorf("intake: smtp: %w", err)
	}
	return nil
}

// Shutdown stops listening and waits for the connections to end, until ctx is done; then
// it closes the rest.
func (s *SMTPServer) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("intake: smtp: shutdown: %w", err)
	}
	return nil
}

// recipients is the set of accepted addresses and @domains, lower case; empty takes any.
type recipients map[string]bool

func parseRecipients(list []string) (recipients, error) {
	r := recipients{}
	for _, a := range list {
		local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(a)), "@")
		if !ok || domain == "" || strings.ContainsAny(local+domain, "@ <>") {
			return nil, fmt.Errorf("intake: smtp: recipient %q is neither local@domain nor @domain", a)
		}
		r[local+"@"+domain] = true
	}
	return r, nil
}

// accept reports whether mail to addr is taken.
func (r recipients) accept(addr string) bool {
	if len(r) == 0 {
		return true
	}
	addr = strings.ToLower(addr)
	_, domain, ok := strings.Cut(addr, "@")
	return r[addr] || (ok && r["@"+domain])
}

// slogPrinter passes go-smtp's own log lines (failed connections) to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
