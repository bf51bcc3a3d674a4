package gateway

import (
	"bufio"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// head is a parsed HTTP/1.x request head.
type head struct {
	method string
	target string // the request target as sent: absolute form, authority form, origin form or *
	major  int
	minor  int
	header http.Header
	// body framing, decided from the header
	chunked       bool
	contentLength int64 // -1 when chunked, 0 when there is no body
}

var (
	errBadRequestLine = errors.New("malformed request line")
	errBadVersion     = errors.New("unsupported HTTP version")
	errBadMethod      = errors.New("malformed method")
	errManyHosts      = errors.New("several Host headers")
	errSmuggling      = errors.New("both Transfer-Encoding and Content-Length")
	errBadLength      = errors.New("malformed Content-Length")
	errBadEncoding    = errors.New("unsupported Transfer-Encoding")
)

// readHead reads and checks one request head. The caller bounds its size by limiting the
// reader under br.
func readHead(br *bufio.Reader) (*head, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, err
	}
	h, err := parseRequestLine(line)
	if err != nil {
		return nil, err
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	h.header = http.Header(mh)
	if err := h.frame(); err != nil {
		return nil, err
	}
	return h, nil
}

func parseRequestLine(line string) (*head, error) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || target == "" || strings.ContainsAny(target, " \t") {
		return nil, errBadRequestLine
	}
	if !validToken(method) {
		return nil, errBadMethod
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return nil, errBadRequestLine
	}
	if major != 1 {
		return nil, errBadVersion
	}
	return &head{method: method, target: target, major: major, minor: minor}, nil
}

// frame checks the headers that decide framing and the target host (RFC 9112 §6.3).
func (h *head) frame() error {
	if len(h.header["Host"]) > 1 {
		return errManyHosts
	}
	te := h.header["Transfer-Encoding"]
	cl := h.header["Content-Length"]
	if len(te) > 0 && len(cl) > 0 {
		return errSmuggling
	}
	if len(te) > 0 {
		if h.minor == 0 || len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return errBadEncoding
		}
		h.chunked = true
		h.contentLength = -1
		return nil
	}
	if len(cl) == 0 {
		return nil
	}
	n, err := parseContentLength(cl)
	if err != nil {
		return err
	}
	h.contentLength = n
	return nil
}

// parseContentLength accepts one value, or several identical ones.
func parseContentLength(values []string) (int64, error) {
	first := strings.TrimSpace(values[0])
	for _, v := range values[1:] {
		if strings.TrimSpace(v) != first {
			return 0, errBadLength
		}
	}
	if first == "" || len(first) > 18 {
		return 0, errBadLength
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil || n < 0 || first[0] == '+' {
		return 0, errBadLength
	}
	return n, nil
}

// keepAlive reports whether the client wants the connection kept after this exchange.
func (h *head) keepAlive() bool {
	if headerHasToken(h.header, "Connection", "close") {
		return false
	}
	if h.minor == 0 {
		return headerHasToken(h.header, "Connection", "keep-alive")
	}
	return true
}

// wantsUpgrade reports a protocol upgrade request (WebSocket and the like).
func (h *head) wantsUpgrade() bool {
	return h.header.Get("Upgrade") != "" && headerHasToken(h.header, "Connection", "upgrade")
}

func headerHasToken(hd http.Header, name, token string) bool {
	for _, v := range hd[name] {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// knownMethods are the methods forwarded; others answer 501. TRACE answers 405.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "OPTIONS": true,
	"PATCH": true, "PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true,
	"MOVE": true, "LOCK": true, "UNLOCK": true, "REPORT": true, "SEARCH": true,
}
