package parse

import (
	"net/mail"
	"net/netip"
	"time"
)

// Format names the shape a complaint arrived in.
type Format string

// The formats the parsers recognise. A mail that matches none of the structured formats is
// read as prose.
const (
	FormatXARF01   Format = "x-arf-0.1" // X-ARF: YES, YAML-ish report part
	FormatXARF02   Format = "x-arf-0.2" // X-XARF: PLAIN, YAML-ish report part
	FormatXARF3    Format = "xarf-3"    // XARF v3 JSON (alone or in an ARF envelope)
	FormatXARF4    Format = "xarf-4"    // XARF v4 JSON (alone or in an ARF envelope)
	FormatARF      Format = "arf"       // RFC 5965 feedback report
	FormatACNS     Format = "acns"      // copyright notice with embedded ACNS XML
	FormatFail2ban Format = "fail2ban"  // fail2ban-style "abuse from ADDRESS" with log lines
	FormatProse    Format = "prose"     // free text
)

// Category is what a complaint is about. Parsers set it when the format says so; triage
// decides it otherwise.
type Category string

// The categories of the desk and of the yearly report.
const (
	CategoryNone           Category = ""
	CategoryCopyright      Category = "copyright"
	CategoryScanning       Category = "scanning"
	CategoryBruteForce     Category = "brute-force"
	CategoryDoS            Category = "dos"
	CategorySpam           Category = "spam"
	CategoryFraud          Category = "fraud"
	CategoryHacking        Category = "hacking"
	CategoryHarassment     Category = "harassment"
	CategoryLawEnforcement Category = "law-enforcement"
	CategoryUpstream       Category = "upstream"
	CategoryOther          Category = "other"
)

// Categories lists every category but CategoryNone, in a fixed order (for reports).
var Categories = []Category{
	CategoryCopyright, CategoryScanning, CategoryBruteForce, CategoryDoS, CategorySpam,
	CategoryFraud, CategoryHacking, CategoryHarassment, CategoryLawEnforcement,
	CategoryUpstream, CategoryOther,
}

// Field is one key and value as the complaint wrote it, kept in order.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Report is one complaint, normalised. A mail holds one report or several (an ACNS mail may
// list several notices). Zero values mean "not said".
type Report struct {
	Format Format `json:"format"`
	// Category is the format's own classification mapped onto the desk's; CategoryNone when
	// the format says nothing (triage decides).
	Category Category `json:"category,omitempty"`
	// Type is the format's own type or category word, as written (X-ARF Report-Type, ARF
	// Feedback-Type, XARF ReportType/type, ACNS protocol...).
	Type string `json:"type,omitempty"`
	// Source is the address the complaint is about (normally one of our exits).
	Source netip.Addr `json:"source,omitzero"`
	// SourcePort is the source port named, 0 when none.
	SourcePort int `json:"source_port,omitempty"`
	// Addresses lists every IP address named anywhere in the complaint (structured fields,
	// text, logs), Source first when set, each once, in order of appearance.
	Addresses []netip.Addr `json:"addresses,omitempty"`
	// Destination is the attacked or contacted host (IP or name) and DestinationPort its port.
	Destination     string `json:"destination,omitempty"`
	DestinationPort int    `json:"destination_port,omitempty"`
	// Service is the protocol or service named (ssh, http, BitTorrent...).
	Service string `json:"service,omitempty"`
	// OccurredAt is when the reported activity happened, in the zone the complaint gave
	// (time.UTC when it gave none, with ZoneGiven false).
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	ZoneGiven  bool      `json:"zone_given,omitempty"`
	// Complainant names who complains: an organisation, a domain or an address.
	Complainant string `json:"complainant,omitempty"`
	// CaseID is the complainant's case reference; NoticeID its reference for this one notice
	// or report (X-ARF Report-ID, XARF report_id, ACNS Notice_ID). A resend carries the same
	// NoticeID.
	CaseID   string `json:"case_id,omitempty"`
	NoticeID string `json:"notice_id,omitempty"`
	// URLs lists the URLs named, in order, each once.
	URLs []string `json:"urls,omitempty"`
	// Title names the work of a copyright notice; Hash its file hash.
	Title string `json:"title,omitempty"`
	Hash  string `json:"hash,omitempty"`
	// Fields keeps every raw key and value the structured part held, in order, unknown keys
	// included.
	Fields []Field `json:"fields,omitempty"`
}

// Message is a complaint mail decoded: its headers, its human text and its parts, after
// MIME decoding and charset conversion.
type Message struct {
	Header     mail.Header `json:"-"`
	From       string      `json:"from,omitempty"`        // address of From, lower case
	ReturnPath string      `json:"return_path,omitempty"` // "<>" kept as "<>" (empty return path)
	Subject    string      `json:"subject,omitempty"`     // RFC 2047 decoded
	MessageID  string      `json:"message_id,omitempty"`
	InReplyTo  string      `json:"in_reply_to,omitempty"`
	References []string    `json:"references,omitempty"`
	Date       time.Time   `json:"date,omitzero"`
	// Text is the human text: every text/plain part (text/html reduced to text when there
	// is no plain part) decoded to UTF-8, joined by blank lines.
	Text  string `json:"text,omitempty"`
	Parts []Part `json:"parts,omitempty"`
}

// Part is one leaf MIME part, decoded.
type Part struct {
	ContentType string `json:"content_type"`
	Filename    string `json:"filename,omitempty"`
	Body        []byte `json:"-"`
}
