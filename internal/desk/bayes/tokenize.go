package bayes

import (
	"net/mail"
	"net/textproto"
	"strings"
	"unicode"
	"unicode/utf8"

	"sortie.dev/sortie/internal/desk/parse"
)

// Bounds of Tokenize.
const (
	// MaxTokens is the most tokens Tokenize returns, and the most Classify and Learn use.
	MaxTokens = 2000
	// MaxTokenLen is the longest token kept, in bytes; a longer one becomes a marker token
	// ("#long", with its header prefix if any).
	MaxTokenLen = 64
	// MaxScan is how many bytes of the text (and of each header value) are read.
	MaxScan = 256 << 10
	// DigitRun is the shortest run of digits collapsed to "#" inside a token.
	DigitRun = 5
)

// Marker tokens. They start with "#", which no word holds.
const (
	markLong = "#long"
	digits   = "#"
)

// headerTokens lists the headers tokenized (besides Subject and From, which the Message holds
// decoded), each prefixed with its lower-case name.
var headerTokens = []string{"Reply-To", "X-Mailer", "User-Agent", "Precedence", "Auto-Submitted"}

// presenceTokens lists headers whose mere presence is a token ("header:list-unsubscribe").
var presenceTokens = []string{
	"List-Unsubscribe", "List-Id", "X-ARF", "X-XARF", "Auto-Submitted", "DKIM-Signature",
	"In-Reply-To", "X-Mailer",
}

// Tokenize returns the tokens of a decoded mail: the words, addresses, host names and URLs of
// its text, and of its Subject, From and a few other headers prefixed with the header's name
// ("subject:invoice", "from:example.net"). Addresses, host names, mail addresses and URLs are
// kept whole and also split into their parts (the /24 or /48 of an IP address, the parent
// domains of a host name, the host of a URL). Everything is lower case; runs of DigitRun or
// more digits become "#"; tokens longer than MaxTokenLen become a marker. The tokens are
// unique, in first-seen order, at most MaxTokens of them. Words shorter than MinWordLen and
// bare numbers are left out. A nil message has no tokens.
func Tokenize(m *parse.Message) []string {
	if m == nil {
		return nil
	}
	t := newTokens()
	t.text("subject:", m.Subject)
	if !t.address("from:", m.From) {
		t.text("from:", m.From)
	}
	if m.ReturnPath == "<>" {
		t.add("", "return-path:empty")
	}
	for _, name := range headerTokens {
		if v, _ := header(m, name); v != "" {
			prefix := strings.ToLower(name) + ":"
			if a, err := mail.ParseAddress(v); err == nil {
				t.address(prefix, a.Address)
				continue
			}
			t.text(prefix, v)
		}
	}
	for _, name := range presenceTokens {
		if _, ok := header(m, name); ok {
			t.add("header:", strings.ToLower(name))
		}
	}
	for i, p := range m.Parts {
		if i == 100 {
			break
		}
		t.add("part:", strings.ToLower(p.ContentType))
	}
	t.text("", m.Text)
	return t.list
}

// TokenizeText returns the tokens of a bare text, as Tokenize does for a mail's body.
func TokenizeText(s string) []string {
	t := newTokens()
	t.text("", s)
	return t.list
}

// header returns the first value of a header, whatever the case of its name in m.Header, and
// whether it is present.
func header(m *parse.Message, name string) (string, bool) {
	v, ok := m.Header[textproto.CanonicalMIMEHeaderKey(name)]
	if !ok {
		for k, vv := range m.Header {
			if strings.EqualFold(k, name) {
				v, ok = vv, true
				break
			}
		}
	}
	if len(v) == 0 {
		return "", ok
	}
	return v[0], ok
}

type tokens struct {
	seen map[string]bool
	list []string
}

func newTokens() *tokens { return &tokens{seen: map[string]bool{}} }

func (t *tokens) full() bool { return len(t.list) >= MaxTokens }

// add records prefix+tok once, collapsing digit runs and replacing an overlong token by the
// marker.
func (t *tokens) add(prefix, tok string) {
	if tok == "" || t.full() {
		return
	}
	tok = collapseDigits(tok)
	if len(tok) > MaxTokenLen {
		tok = markLong
	}
	tok = prefix + tok
	if !t.seen[tok] {
		t.seen[tok] = true
		t.list = append(t.list, tok)
	}
}

// text tokenizes free text: fields split at white space and brackets, each read as a URL, a
// mail address, an IP address, a host name or words.
func (t *tokens) text(prefix, s string) {
	s = clean(s)
	for field := range strings.FieldsFuncSeq(s, isFieldSep) {
		if t.full() {
			return
		}
		field = strings.Trim(field, trimSet)
		if field == "" {
			continue
		}
		lower := strings.ToLower(field)
		switch {
		case isURL(lower):
			t.url(prefix, lower)
		case strings.Contains(lower, "@") && t.address(prefix, lower):
		case t.ip(prefix, lower):
		case isHostname(lower):
			t.host(prefix, lower)
		default:
			t.words(prefix, lower)
		}
	}
}

// clean bounds s to MaxScan bytes and makes it valid UTF-8 without control characters.
func clean(s string) string {
	if len(s) > MaxScan {
		cut := MaxScan
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = strings.ToValidUTF8(s, " ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// trimSet is the punctuation trimmed from both ends of a field.
const trimSet = ".,:;!?*'\"-_=+~`^|\\/"

func isFieldSep(r rune) bool {
	if unicode.IsSpace(r) || unicode.IsControl(r) {
		return true
	}
	return strings.ContainsRune("<>()[]{}\"',;|\\`", r)
}

// MinWordLen is the fewest runes a word token has.
const MinWordLen = 3

// words adds the runs of letters and digits of a field (with inner apostrophes and hyphens)
// that hold a letter and are at least MinWordLen runes long. As in bogofilter, short words
// and bare numbers (dates, times, counts, IDs) are left out: they are noise that is never
// seen again, and numbers that matter (addresses) are tokens of their own.
func (t *tokens) words(prefix, field string) {
	for w := range strings.FieldsFuncSeq(field, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\''
	}) {
		w = strings.Trim(w, "-'")
		if utf8.RuneCountInString(w) >= MinWordLen && strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			t.add(prefix, w)
		}
	}
}
