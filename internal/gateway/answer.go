package gateway

import (
	"bufio"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// answer is how each protocol says one refusal reason: the table of docs/protocols.md, as data.
type answer struct {
	status  int    // HTTP forward and CONNECT
	socks5  byte   // SOCKS5 reply code
	message string // the default public message
}

// SOCKS reply codes (RFC 1928 §6) and SOCKS4's two.
const (
	socks5OK             = 0x00
	socks5Failure        = 0x01
	socks5NotAllowed     = 0x02
	socks5NetUnreach     = 0x03
	socks5HostUnreach    = 0x04
	socks5Refused        = 0x05
	socks5BadCommand     = 0x07
	socks5BadAddressType = 0x08
	socks4Granted        = 0x5A
	socks4Rejected       = 0x5B
)

var answers = [...]answer{
	refusal.Unknown:         {http.StatusBadGateway, socks5Failure, "The gateway could not complete the request."},
	refusal.Malformed:       {http.StatusBadRequest, socks5Failure, "The request could not be understood."},
	refusal.Unsupported:     {http.StatusNotImplemented, socks5BadCommand, "This method is not supported."},
	refusal.AddrType:        {http.StatusBadRequest, socks5BadAddressType, "This address type is not supported."},
	refusal.Auth:            {http.StatusProxyAuthRequired, socks5NotAllowed, "Proxy authentication is required."},
	refusal.Policy:          {http.StatusForbidden, socks5NotAllowed, "This exit does not connect to that destination."},
	refusal.Blocked:         {http.StatusUnavailableForLegalReasons, socks5NotAllowed, "This destination is blocked at this exit."},
	refusal.RateLimited:     {http.StatusTooManyRequests, socks5NotAllowed, "Too many requests: slow down and try again later."},
	refusal.Capacity:        {http.StatusServiceUnavailable, socks5Failure, "The gateway is at capacity: try again later."},
	refusal.NXDomain:        {http.StatusBadGateway, socks5HostUnreach, "That name does not exist."},
	refusal.DNSFailure:      {http.StatusBadGateway, socks5HostUnreach, "That name could not be resolved."},
	refusal.DNSTimeout:      {http.StatusGatewayTimeout, socks5HostUnreach, "Resolving that name timed out."},
	refusal.Refused:         {http.StatusBadGateway, socks5Refused, "The destination refused the connection."},
	refusal.NetUnreach:      {http.StatusBadGateway, socks5NetUnreach, "The destination network is unreachable."},
	refusal.HostUnreach:     {http.StatusBadGateway, socks5HostUnreach, "The destination host is unreachable."},
	refusal.DialTimeout:     {http.StatusGatewayTimeout, socks5HostUnreach, "Connecting to the destination timed out."},
	refusal.NoRoute:         {http.StatusBadGateway, socks5HostUnreach, "This exit has no route to that network."},
	refusal.UpstreamFailure: {http.StatusBadGateway, socks5Failure, "The upstream proxy failed."},
}

func answerFor(r refusal.Reason) answer {
	if int(r) < len(answers) {
		return answers[r]
	}
	return answers[refusal.Unknown]
}

// refusalOf returns err as a refusal, treating anything unclassified as Unknown.
func refusalOf(err error) *refusal.Error {
	if e := refusal.As(err); e != nil {
		return e
	}
	return &refusal.Error{Reason: refusal.Unknown, Err: err}
}

// publicMessage is the message shown to the client for e.
func publicMessage(e *refusal.Error) string {
	if e.Message != "" {
		return e.Message
	}
	return answerFor(e.Reason).message
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Status}} {{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{- with .Block}}
<p>Block <strong>{{.ID}}</strong>: {{.Reason}}</p>
<p>Basis: {{.Basis}}. Decided by {{.DecidedBy}} on {{.Decided.Format "2006-01-02"}}.</p>
<p><a href="{{.NoticeURL}}">Read the public notice</a>.</p>
{{- end}}
</body></html>
`))

// writeAnswer writes the HTTP answer to a refusal with the given status; the connection is
// closed afterwards.
func writeAnswer(w *bufio.Writer, status int, e *refusal.Error, via string) error {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "close")
	if e.Reason == refusal.Auth {
		h.Set("Proxy-Authenticate", `Basic realm="sortie", charset="UTF-8"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	} else if e.Reason == refusal.RateLimited || e.Reason == refusal.Capacity {
		h.Set("Retry-After", "10")
	}
	if b := e.Block; b != nil && e.Reason == refusal.Blocked && b.BlockedBy != "" {
		h.Set("Link", "<"+b.BlockedBy+`>; rel="blocked-by"`)
	}
	if via != "" {
		h.Set("Via", "1.1 "+via)
	}
	var block *refusal.Block
	if e.Reason == refusal.Blocked {
		block = e.Block
	}
	body := renderPage(status, publicMessage(e), block)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	writeStatusLine(w, status)
	h.Write(w)
	w.WriteString("\r\n")
	w.Write(body)
	return w.Flush()
}

func renderPage(status int, message string, block *refusal.Block) []byte {
	var buf bytesBuffer
	pageTmpl.Execute(&buf, struct {
		Status  int
		Title   string
		Message string
		Block   *refusal.Block
	}{status, http.StatusText(status), message, block})
	return buf
}

// bytesBuffer is the smallest io.Writer over a byte slice.
type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func writeStatusLine(w *bufio.Writer, status int) {
	w.WriteString("HTTP/1.1 ")
	w.WriteString(strconv.Itoa(status))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(status))
	w.WriteString("\r\n")
}
