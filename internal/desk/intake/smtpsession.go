package intake

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/emersion/go-smtp"

	"sortie.dev/sortie/internal/crashpoint"
	"sortie.dev/sortie/internal/store"
)

// The SMTP answers of the intake.
var (
	errRate = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many messages from your address; try again later"}
	errRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such recipient here"}
	errStore = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Message not stored, temporary failure; try again later"}
	errEmpty = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Empty message"}
)

// backend makes a session per connection.
type backend struct{ s *SMTPServer }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	sess := &smtpSession{s: b.s}
	if tcp, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		sess.client = tcp.AddrPort().Addr()
	}
	return sess, nil
}

// smtpSession is one client connection.
type smtpSession struct {
	s      *SMTPServer
	client netip.Addr
	// stored is set when Data committed a message: go-smtp writes the 250 after Data
	// returns and then calls Reset, which marks the acknowledgement.
	stored bool
}

// Mail starts a message, if the client is within its rate.
func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.limits != nil && ss.client.IsValid() && !ss.s.limits.allow(ss.client, time.Now()) {
		return errRate
	}
	return nil
}

// Rcpt accepts the configured recipients.
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.s.accepts.accept(to) {
		return errRecipient
	}
	return nil
}

// Data reads the message with the size cap and returns only after the commit: nil (250)
// when stored, a temporary failure (451) otherwise.
func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, ss.s.max+1))
	var smtpErr *smtp.SMTPError
	switch {
	case errors.As(err, &smtpErr):
		return smtpErr // go-smtp's own: over the size announced or allowed
	case err != nil:
		return err
	case int64(len(raw)) > ss.s.max:
		return smtp.ErrDataTooLarge
	case len(raw) == 0:
		return errEmpty
	}
	crashpoint.Hit(pointRead)
	// The commit must not depend on the client: its own bound, not the connection's.
	ctx, cancel := context.WithTimeout(context.Background(), ss.s.opts.DeliverTimeout)
	defer cancel()
	_, err = ss.s.sink.Deliver(ctx, store.Delivery{Source: store.SourceSMTP, Raw: raw, ReceivedAt: time.Now()})
	if err != nil {
		ss.s.log.Warn("smtp: delivery failed, answered 451", "bytes", len(raw), "err", err)
		return errStore
	}
	crashpoint.Hit(pointStored)
	ss.stored = true
	return nil
}

// Reset ends a message; after a stored one, the 250 has been written.
func (ss *smtpSession) Reset() {
	if ss.stored {
		ss.stored = false
		crashpoint.Hit(pointAcked)
	}
}

// Logout ends the session.
func (ss *smtpSession) Logout() error {
	ss.Reset()
	return nil
}
