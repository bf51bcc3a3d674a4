package parse

import (
	"net/url"
	"regexp"
	"strings"
)

// urlRe matches http, https and ftp URLs in defanged text.
var urlRe = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'{}|\\^` + "`" + `]+`)

// URLs returns the http, https and ftp URLs named in text, each once, in order, at most
// MaxURLs. De-fanged spellings count ("hxxp://", "hxxps[:]//", "example[.]com"); trailing
// punctuation is not part of a URL.
func URLs(text string) []string {
	var c collector
	c.scan(text)
	return c.urls
}

// findURLs returns the URLs in s, which must be defanged already, at most n.
func findURLs(s string, n int) []string {
	if !strings.Contains(s, "://") {
		return nil
	}
	var out []string
	for _, m := range urlRe.FindAllString(s, n) {
		if u, ok := cleanURL(m); ok {
			out = append(out, u)
		}
	}
	return out
}

// cleanURL trims punctuation that ends a sentence rather than the URL and checks the rest.
func cleanURL(u string) (string, bool) {
	for u != "" {
		last := u[len(u)-1]
		if strings.IndexByte(".,;:!?*", last) >= 0 ||
			last == ')' && strings.Count(u, "(") < strings.Count(u, ")") ||
			last == ']' && strings.Count(u, "[") < strings.Count(u, "]") {
			u = u[:len(u)-1]
			continue
		}
		break
	}
	if len(u) > maxURLLen {
		return "", false
	}
	scheme, rest, found := strings.Cut(u, "://")
	scheme = strings.ToLower(scheme)
	if !found || scheme != "http" && scheme != "https" && scheme != "ftp" {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Hostname() == "" {
		return "", false
	}
	return scheme + "://" + rest, true
}

// cleanURLs returns the values that are URLs (de-fanged spellings undone), cleaned.
func cleanURLs(values []string) []string {
	var out []string
	for _, v := range values {
		if u, ok := cleanURL(defang(strings.Trim(v, "<> \t"))); ok {
			out = append(out, u)
		}
	}
	return out
}
