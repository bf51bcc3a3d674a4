package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// stepConn bounds the waits of an IMAP conversation. While armed (a command is under way)
// every read and write must make progress within the timeout; while disarmed (the poller is
// busy with the store) the client's reader may wait without a deadline. The deadlines the
// IMAP client (or TLS above it) sets itself are ignored: the steps decide.
type stepConn struct {
	net.Conn
	timeout time.Duration

	mu    sync.Mutex
	armed bool
}

// arm starts a network step.
func (c *stepConn) arm() {
	c.mu.Lock()
	c.armed = true
	c.Conn.SetDeadline(time.Now().Add(c.timeout))
	c.mu.Unlock()
}

// disarm ends a network step.
func (c *stepConn) disarm() {
	c.mu.Lock()
	c.armed = false
	c.Conn.SetDeadline(time.Time{})
	c.mu.Unlock()
}

// SetDeadline, SetReadDeadline and SetWriteDeadline ignore the client's own deadlines.
func (c *stepConn) SetDeadline(time.Time) error      { return nil }
func (c *stepConn) SetReadDeadline(time.Time) error  { return nil }
func (c *stepConn) SetWriteDeadline(time.Time) error { return nil }

// Read extends the deadline each time data arrives during a step, so a large message may
// take longer than one timeout as long as it keeps flowing.
func (c *stepConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.armed {
			c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		}
		c.mu.Unlock()
	}
	return n, err
}

// imapSession is one logged-in connection.
type imapSession struct {
	p    *IMAPPoller
	conn *stepConn
	c    *imapclient.Client
	stop func() bool // stops closing the connection when ctx ends
}

// connect dials, secures the connection as configured, and logs in.
func (p *IMAPPoller) connect(ctx context.Context) (*imapSession, error) {
	dctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	raw, err := p.opts.Dial(dctx, "tcp", p.opts.Address)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &imapSession{p: p, conn: &stepConn{Conn: raw, timeout: p.opts.Timeout}}
	// Ending ctx ends every wait on the connection at once.
	s.stop = context.AfterFunc(ctx, func() { raw.Close() })
	s.conn.arm()
	if err := s.open(); err != nil {
		s.stop()
		if s.c != nil {
			s.c.Close()
		} else {
			raw.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	s.conn.disarm()
	return s, nil
}

// open makes the client, waits for the greeting and logs in.
func (s *imapSession) open() error {
	o := &s.p.opts
	cfg := s.p.tlsConfig()
	switch o.TLS {
	case TLSImplicit:
		tc := tls.Client(s.conn, cfg)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		s.c = imapclient.New(tc, nil)
	case TLSStartTLS:
		c, err := imapclient.NewStartTLS(s.conn, &imapclient.Options{TLSConfig: cfg})
		if err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
		s.c = c
	default:
		s.c = imapclient.New(s.conn, nil)
	}
	if err := s.c.WaitGreeting(); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if s.c.State() == imap.ConnStateNotAuthenticated {
		if err := s.c.Login(o.Username, o.Password).Wait(); err != nil {
			return fmt.Errorf("login as %s: %w", o.Username, err)
		}
	}
	if o.MoveTo != "" {
		caps := s.c.Caps()
		// Without MOVE the client falls back to COPY, STORE \Deleted and EXPUNGE; without
		// UIDPLUS that EXPUNGE would remove every message anyone marked \Deleted.
		if !caps.Has(imap.CapMove) && !caps.Has(imap.CapIMAP4rev2) && !caps.Has(imap.CapUIDPlus) {
			return errors.New("the server has neither MOVE nor UIDPLUS: cannot move messages safely, leave MoveTo empty")
		}
	}
	return nil
}

// tlsConfig returns the configured TLS settings, naming the server when they do not.
func (p *IMAPPoller) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.opts.TLSConfig != nil {
		cfg = p.opts.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(p.opts.Address)
	}
	return cfg
}

// step runs one bounded network step.
func (s *imapSession) step(fn func() error) error {
	s.conn.arm()
	defer s.conn.disarm()
	return fn()
}

// close logs out (bounded) and closes the connection.
func (s *imapSession) close() {
	s.step(func() error { return s.c.Logout().Wait() })
	s.c.Close()
	s.stop()
}
