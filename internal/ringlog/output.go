package ringlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// WriteJSON writes the unexpired records, oldest first, as one JSON array with one record
// object per line.
func (r *Ring) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, e := range r.Records() {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.WriteString(e.Line)
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ringlog: write json: %w", err)
	}
	return nil
}

// WriteText writes the unexpired records, oldest first, one per line in log/slog's text form
// (key=value pairs, groups joined with dots).
func (r *Ring) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, e := range r.Records() {
		bw.WriteString(e.Text())
		bw.WriteString("\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ringlog: write text: %w", err)
	}
	return nil
}

// Text returns the record in log/slog's text form: key=value pairs in their original order,
// nested groups flattened to dotted keys. A line that is not a JSON object comes back quoted.
func (e Entry) Text() string {
	var b strings.Builder
	if err := flatten(&b, "", json.RawMessage(e.Line)); err != nil {
		return strconv.Quote(e.Line)
	}
	return b.String()
}

// flatten writes the members of the JSON object obj as key=value pairs, prefixing keys.
func flatten(b *strings.Builder, prefix string, obj json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("ringlog: not a json object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("ringlog: read key: %w", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("ringlog: read value: %w", err)
		}
		if err := member(b, prefix+key, v); err != nil {
			return err
		}
	}
	return nil
}

// member writes one key=value pair, or recurses into a nested group.
func member(b *strings.Builder, key string, v json.RawMessage) error {
	if len(v) > 0 && v[0] == '{' {
		return flatten(b, key+".", v)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(textValue(key))
	b.WriteByte('=')
	var s string
	if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
		b.WriteString(textValue(s))
		return nil
	}
	b.WriteString(textValue(string(v)))
	return nil
}

// textValue quotes s the way log/slog's text handler does: when it is empty or contains
// spaces, quotes, '=' or characters that are not printable.
func textValue(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if c == '=' || c == '"' || unicode.IsSpace(c) || !unicode.IsPrint(c) {
			return strconv.Quote(s)
		}
	}
	return s
}
