package store

import "time"

// Source names where a mail came from. The yearly figures count by source.
type Source string

// The intake sources.
const (
	SourceMaildir Source = "maildir"
	SourceIMAP    Source = "imap"
	SourceSMTP    Source = "smtp"
	SourceImport  Source = "import"
)

// Delivery is one copy of a mail as an intake source hands it over.
type Delivery struct {
	Source Source
	// Key identifies this copy within its source, so that handing the same copy over twice
	// (after a crash between the commit and the source's acknowledgement) is recognised and
	// not counted as a repeat: the Maildir file's unique name, "uidvalidity/uid" for IMAP, a
	// queue ID for SMTP, "path#index" for an import. Empty: every hand-over is a new copy.
	Key string
	// Raw is the mail as received, bytes for bytes.
	Raw []byte
	// ReceivedAt is when the source received it (the Maildir file's time, IMAP INTERNALDATE,
	// the SMTP session); zero means now.
	ReceivedAt time.Time
}

// Stored says what Deliver did with a delivery. It is returned only after the commit.
type Stored struct {
	// MessageID is the stored message's identifier.
	MessageID int64
	// New is true when these bytes were stored for the first time.
	New bool
	// Repeat is true when the same bytes were already stored from another copy: the
	// message's repeat count went up by one.
	Repeat bool
	// Known is true when this very copy (same Source and Key) was stored before; nothing
	// changed.
	Known bool
}
