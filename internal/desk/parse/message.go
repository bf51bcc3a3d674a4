package parse

import (
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// newMessage fills the header-derived fields of a Message.
func newMessage(h message.Header) *Message {
	m := &Message{Header: mail.Header{}}
	for f := h.Fields(); f.Next(); {
		m.Header[f.Key()] = append(m.Header[f.Key()], f.Value())
	}
	m.From = firstAddress(h.Get("From"))
	m.ReturnPath = returnPath(h)
	if s, err := h.Text("Subject"); err == nil {
		m.Subject = oneLine(s)
	} else {
		m.Subject = oneLine(h.Get("Subject"))
	}
	m.MessageID = firstID(h.Get("Message-Id"))
	m.InReplyTo = firstID(h.Get("In-Reply-To"))
	m.References = msgIDs(h.Get("References"), 64)
	m.Date = mailDate(h.Get("Date"))
	return m
}

var looseAddr = regexp.MustCompile(`[^\s<>"(),;:]+@[^\s<>"(),;:]+`)

// firstAddress returns the first mail address of a From-like header, lower case.
func firstAddress(v string) string {
	if v = strings.ToValidUTF8(strings.TrimSpace(v), "\uFFFD"); v == "" {
		return ""
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if a, err := p.Parse(v); err == nil {
		return strings.ToLower(a.Address)
	}
	if l, err := p.ParseList(v); err == nil && len(l) > 0 {
		return strings.ToLower(l[0].Address)
	}
	return strings.ToLower(looseAddr.FindString(v))
}

// returnPath returns the Return-Path address, "<>" for the empty (null) return path, and ""
// when the header is absent.
func returnPath(h message.Header) string {
	if !h.Has("Return-Path") {
		return ""
	}
	v := strings.TrimSpace(h.Get("Return-Path"))
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	if inner == "" {
		return "<>"
	}
	if a := firstAddress(v); a != "" {
		return a
	}
	return strings.ToLower(inner)
}

// msgIDs returns the message IDs of an In-Reply-To or References header without their angle
// brackets, at most n.
func msgIDs(v string, n int) []string {
	var ids []string
	for len(ids) < n {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" {
			ids = append(ids, truncate(id, 998))
		}
		v = v[i+j+1:]
	}
	if len(ids) == 0 {
		for _, f := range strings.Fields(v) {
			if len(ids) == n {
				break
			}
			ids = append(ids, truncate(f, 998))
		}
	}
	return ids
}

func firstID(v string) string {
	if ids := msgIDs(v, 1); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// mailDate reads a Date header, leniently; zero when unreadable.
func mailDate(v string) time.Time {
	if v = strings.TrimSpace(v); v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	if t, _, ok := FindTime(v); ok {
		return t
	}
	return time.Time{}
}

// oneLine collapses runs of blank space (folding included) into one space.
func oneLine(s string) string {
	return truncate(strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " "), 998)
}
