package parse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // importing it also gives go-message its charsets
	"github.com/emersion/go-message/textproto"
)

// ErrNotMail is returned when the input does not start with a mail header.
var ErrNotMail = errors.New("not a mail: no header field at the start")

// wordDecoder decodes RFC 2047 words in any charset go-message knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decoded is a mail after MIME decoding, with the messages nested in it.
type decoded struct {
	msg *Message
	// header is the header as "Key: value" lines, in order.
	header string
	// nested holds the message/rfc822 parts decoded, keyed by their index in msg.Parts.
	nested map[int]*decoded
	// order lists the keys of nested in part order.
	order []int
}

// decode reads raw as a mail. depth counts the message/rfc822 levels above it.
func decode(raw []byte, depth int) (*decoded, error) {
	if len(raw) > MaxInput {
		raw = raw[:MaxInput]
	}
	raw = skipMboxLine(raw)
	br := bufio.NewReader(bytes.NewReader(raw))
	h, _ := textproto.ReadHeader(br)
	if h.Len() == 0 {
		return nil, ErrNotMail // the reason is the first line, which is not repeated here
	}
	// A malformed field later in the header ends the header there; what follows is read as
	// the body. Real complaint mail is kept rather than refused for a broken header line.
	hdr := message.Header{Header: h}
	d := &decoded{msg: newMessage(hdr), header: headerText(hdr), nested: map[int]*decoded{}}
	e, _ := message.New(hdr, br) // unknown charsets and encodings leave the body as it is
	w := walker{d: d, depth: depth}
	w.entity(e, 0)
	d.msg.Text = joinText(d.msg.Parts)
	return d, nil
}

// headerText writes the header fields as lines, in order.
func headerText(h message.Header) string {
	var b strings.Builder
	for f := h.Fields(); f.Next(); {
		b.WriteString(f.Key())
		b.WriteString(": ")
		b.WriteString(f.Value())
		b.WriteByte('\n')
	}
	return b.String()
}

// skipMboxLine drops an mbox "From " separator line in front of the header.
func skipMboxLine(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return raw
}

// walker collects the leaf parts of one message.
type walker struct {
	d     *decoded
	depth int
}

func (w *walker) entity(e *message.Entity, mdepth int) {
	if len(w.d.msg.Parts) >= MaxParts {
		return
	}
	ctype, params := contentType(e.Header)
	if strings.HasPrefix(ctype, "multipart/") {
		if mdepth < maxMultipartDepth && params["boundary"] != "" && w.multipart(e, mdepth) {
			return
		}
		ctype = "text/plain" // no part could be read: keep the body as text
	}
	body, _ := io.ReadAll(io.LimitReader(e.Body, MaxInput)) // a broken encoding keeps what decoded
	w.leaf(e.Header, ctype, body)
}

// multipart reads the parts of e; it reports false when none could be read, after which
// e.Body is still whole for the caller to keep.
func (w *walker) multipart(e *message.Entity, mdepth int) bool {
	body, _ := io.ReadAll(io.LimitReader(e.Body, MaxInput))
	e.Body = bytes.NewReader(body)
	again, _ := message.New(e.Header, bytes.NewReader(body))
	mr := again.MultipartReader()
	if mr == nil {
		return false
	}
	n := 0
	for len(w.d.msg.Parts) < MaxParts {
		p, err := mr.NextPart()
		if p == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			break
		}
		n++
		w.entity(p, mdepth+1)
	}
	return n > 0
}

func (w *walker) leaf(h message.Header, ctype string, body []byte) {
	p := Part{ContentType: ctype, Filename: filename(h), Body: body}
	w.d.msg.Parts = append(w.d.msg.Parts, p)
	if ctype != "message/rfc822" && ctype != "message/global" || w.depth >= MaxNested {
		return
	}
	if inner, err := decode(body, w.depth+1); err == nil {
		i := len(w.d.msg.Parts) - 1
		w.d.nested[i] = inner
		w.d.order = append(w.d.order, i)
	}
}

// contentType returns the lower-case media type of h (text/plain when absent or unreadable)
// and its parameters.
func contentType(h message.Header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil && strings.Contains(t, "/") {
		return strings.ToLower(t), params
	}
	t, _, _ = strings.Cut(v, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	if !strings.Contains(t, "/") || strings.ContainsAny(t, " \t\"") {
		t = "text/plain"
	}
	if params == nil {
		params = map[string]string{}
	}
	return t, params
}

// filename returns the part's file name from Content-Disposition or the Content-Type name.
func filename(h message.Header) string {
	if _, params, err := h.ContentDisposition(); err == nil && params["filename"] != "" {
		return cleanName(params["filename"])
	}
	if _, params, err := h.ContentType(); err == nil && params["name"] != "" {
		return cleanName(params["name"])
	}
	return ""
}

func cleanName(s string) string {
	if dec, err := wordDecoder.DecodeHeader(s); err == nil {
		s = dec
	}
	return truncate(strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD"), 255)
}

// joinText builds Message.Text: every text/plain part, or the text/html parts reduced to
// text when there is no plain part.
func joinText(parts []Part) string {
	var texts []string
	for _, p := range parts {
		if p.ContentType == "text/plain" {
			texts = append(texts, cleanText(p.Body))
		}
	}
	if len(texts) == 0 {
		for _, p := range parts {
			if p.ContentType == "text/html" {
				texts = append(texts, htmlText(p.Body))
			}
		}
	}
	var b strings.Builder
	for _, t := range texts {
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(t)
	}
	return b.String()
}

// cleanText makes body valid UTF-8 with LF line ends and no trailing blank space.
func cleanText(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimRight(s, " \t\r\n")
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
