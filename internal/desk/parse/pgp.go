package parse

import "strings"

const (
	pgpSigned    = "-----BEGIN PGP SIGNED MESSAGE-----"
	pgpSignature = "-----BEGIN PGP SIGNATURE-----"
)

// undoClearSign returns text with every PGP clear-signed section replaced by its signed
// text: the armor header lines dropped, dash-escaping ("- " in front of lines that begin
// with '-', RFC 4880 section 7.1) undone and the signature block removed. Text outside such
// sections is kept as it is.
func undoClearSign(text string) string {
	if !strings.Contains(text, pgpSigned) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for {
		i := strings.Index(text, pgpSigned)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		rest := text[i+len(pgpSigned):]
		// Armor headers ("Hash: SHA256") end at the first blank line.
		if j := strings.Index(rest, "\n\n"); j >= 0 && !strings.Contains(rest[:j], pgpSignature) {
			rest = rest[j+2:]
		}
		signed, after, found := strings.Cut(rest, "\n"+pgpSignature)
		b.WriteString(undash(signed))
		if !found {
			return b.String()
		}
		b.WriteByte('\n')
		if k := strings.Index(after, "-----END PGP SIGNATURE-----"); k >= 0 {
			after = after[k+len("-----END PGP SIGNATURE-----"):]
		} else {
			after = ""
		}
		text = after
	}
}

// undash removes the "- " dash-escape from the start of every line.
func undash(s string) string {
	if !strings.Contains(s, "- ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.Lines(s) {
		b.WriteString(strings.TrimPrefix(line, "- "))
	}
	return b.String()
}
