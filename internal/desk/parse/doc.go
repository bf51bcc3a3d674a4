// Package parse reads complaint mail sent to an abuse desk and turns it into normalised
// reports.
//
// Parse decodes a mail (MIME structure, transfer encodings, charsets, RFC 2047 headers) into a
// Message and recognises the format it is written in: X-ARF 0.1 and 0.2, XARF v3 and v4 JSON
// (alone or in an ARF envelope), ARF (RFC 5965), copyright notices with embedded ACNS XML,
// fail2ban-style mails, and prose. Each format has its own file; the extraction helpers that
// read addresses (also obfuscated), ports, timestamps with their zone and URLs out of free
// text are exported for triage.
//
// Parsing is lenient (real senders deviate from every published schema) and bounded: input
// size, MIME parts, nesting, fields, addresses and URLs per report are all capped (see the
// Max constants). Parse never panics on bad input; it fails only when the input cannot be
// read as a mail at all.
package parse
