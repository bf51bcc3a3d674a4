package parse

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// htmlText reduces an HTML body to its text: tags dropped, script and style skipped, block
// elements ending lines, entities decoded.
func htmlText(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return cleanLines(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				skip++
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "pre", "table", "blockquote":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head":
				if skip > 0 {
					skip--
				}
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "pre", "table", "blockquote":
				b.WriteByte('\n')
			}
		}
	}
}

// cleanLines trims every line, keeps at most one blank line in a row, and makes the text
// valid UTF-8.
func cleanLines(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var out []string
	blank := true
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
