package bayes

import (
	"net/mail"
	"slices"
	"strings"
	"testing"

	"sortie.dev/sortie/internal/desk/parse"
)

func TestTokenizeKeepsWholeAndParts(t *testing.T) {
	m := &parse.Message{
		Header: mail.Header{
			"Reply-To":         {"Desk <Desk@Mail.Example.ORG>"},
			"X-Mailer":         {"BulkBlaster 9"},
			"List-Unsubscribe": {"<https://list.example.net/u>"},
		},
		From:       "alerts@noc.example.net",
		ReturnPath: "<>",
		Subject:    "Abuse report for 192.0.2.15",
		Text: "Hello, we saw SSH login attempts from 192.0.2.15:22 and 2001:db8:1:2::7 " +
			"against www.shop.example.com. Evidence: https://evidence.example.org/case/9876543?x=1. " +
			"Write to soc@example.org. Ticket 12345678, see order nr ABC1234567.",
		Parts: []parse.Part{{ContentType: "text/plain"}},
	}
	got := Tokenize(m)
	want := []string{
		"subject:abuse", "subject:192.0.2.15", "subject:192.0.2.0/24",
		"from:alerts@noc.example.net", "from:alerts", "from:noc.example.net", "from:example.net", "from:noc", "from:example",
		"return-path:empty",
		"reply-to:desk@mail.example.org", "reply-to:mail.example.org", "reply-to:example.org",
		"x-mailer:bulkblaster",
		"header:list-unsubscribe", "header:x-mailer",
		"part:text/plain",
		"ssh", "login", "192.0.2.15", "192.0.2.0/24", "2001:db8:1:2::7", "2001:db8:1::/48",
		"www.shop.example.com", "shop.example.com", "example.com", "www", "shop",
		"https://evidence.example.org/case/#?x=1", "url:evidence.example.org", "evidence.example.org", "case",
		"soc@example.org", "soc", "example.org",
		"abc#",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("token %q missing", w)
		}
	}
	for _, bad := range []string{"subject:Abuse", "12345678", "#", "hello,", "x-mailer:9", "nr"} {
		if slices.Contains(got, bad) {
			t.Errorf("token %q should not be there", bad)
		}
	}
	checkTokens(t, got)
}

func TestTokenizeLongTokensBecomeMarkers(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10)
	got := TokenizeText("short " + long + " https://example.com/" + long)
	for _, w := range []string{"short", markLong, "url:example.com", "example.com"} {
		if !slices.Contains(got, w) {
			t.Errorf("token %q missing from %q", w, got)
		}
	}
	checkTokens(t, got)
}

func TestTokenizeBounded(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString("w")
		for j := i; j > 0; j /= 26 {
			b.WriteByte(byte('a' + j%26))
		}
		b.WriteByte(' ')
	}
	got := TokenizeText(b.String())
	if len(got) != MaxTokens {
		t.Errorf("%d tokens from 5000 distinct words, want %d", len(got), MaxTokens)
	}
	huge := strings.Repeat("word ", MaxScan) + "tail"
	if slices.Contains(TokenizeText(huge), "tail") {
		t.Error("a word past MaxScan bytes was read")
	}
}

func TestTokenizeNonASCIIAndBroken(t *testing.T) {
	got := TokenizeText("Sehr geehrte Damen und Herren, Straße Ölmühle \xff\xfe broken\x00null")
	for _, w := range []string{"straße", "ölmühle", "broken", "null", "geehrte"} {
		if !slices.Contains(got, w) {
			t.Errorf("token %q missing from %q", w, got)
		}
	}
	checkTokens(t, got)
	if Tokenize(nil) != nil {
		t.Error("Tokenize(nil) returned tokens")
	}
}

// checkTokens asserts the invariants every token list keeps.
func checkTokens(t *testing.T, toks []string) {
	t.Helper()
	if len(toks) > MaxTokens {
		t.Errorf("%d tokens, more than %d", len(toks), MaxTokens)
	}
	seen := map[string]bool{}
	for _, tok := range toks {
		if seen[tok] {
			t.Errorf("token %q repeated", tok)
		}
		seen[tok] = true
		if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\uFFFD' }) {
			t.Errorf("token %q is empty or holds control or replacement characters", tok)
		}
		if !strings.Contains(tok, ":") || strings.HasPrefix(tok, "http") || strings.HasPrefix(tok, "2001") {
			if len(tok) > MaxTokenLen {
				t.Errorf("token %q longer than %d bytes", tok, MaxTokenLen)
			}
		}
		if len(tok) > MaxTokenLen+len("return-path:") {
			t.Errorf("token %q longer than a prefix plus %d bytes", tok, MaxTokenLen)
		}
		if strings.ToLower(tok) != tok {
			t.Errorf("token %q not lower case", tok)
		}
	}
}
