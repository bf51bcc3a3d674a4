package notice

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

func parseTemplates() (*template.Template, error) {
	return template.ParseFS(templateFS, "templates/*.tmpl")
}

// The paths Handler serves.
const (
	PathNotice        = "/"
	PathBlockList     = "/blocklist"
	PathBlockListJSON = "/blocklist.json"
)

const (
	contentHTML = "text/html; charset=utf-8"
	contentJSON = "application/json; charset=utf-8"
)

// securityHeaders are set on every answer, errors included.
var securityHeaders = [...][2]string{
	{"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "public, max-age=300"},
}

// renderFunc makes one page's body and content type at a moment.
type renderFunc func(p *Pages, now time.Time) ([]byte, string, error)

var routes = map[string]renderFunc{
	PathNotice:        (*Pages).renderNotice,
	PathBlockList:     (*Pages).renderBlockList,
	PathBlockListJSON: (*Pages).renderBlockListJSON,
}

// Handler serves GET and HEAD for PathNotice (the exit notice), PathBlockList (the block list
// as HTML) and PathBlockListJSON (the same as JSON, see BlockList). Other paths answer 404,
// other methods 405. It logs nothing.
func (p *Pages) Handler() http.Handler {
	return http.HandlerFunc(p.serve)
}

func (p *Pages) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, kv := range securityHeaders {
		h.Set(kv[0], kv[1])
	}
	render, ok := routes[r.URL.Path]
	switch {
	case !ok:
		render = errorPage(http.StatusNotFound, "There is no page at this address.")
		p.respond(w, r, http.StatusNotFound, render)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.Set("Allow", "GET, HEAD")
		render = errorPage(http.StatusMethodNotAllowed, "This page can only be read, with GET or HEAD.")
		p.respond(w, r, http.StatusMethodNotAllowed, render)
	default:
		p.respond(w, r, http.StatusOK, render)
	}
}

// respond renders the whole body before writing, so a template failure answers 500 cleanly.
func (p *Pages) respond(w http.ResponseWriter, r *http.Request, status int, render renderFunc) {
	body, ctype, err := render(p, p.now())
	if err != nil {
		status, ctype, body = http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n")
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (p *Pages) renderNotice(time.Time) ([]byte, string, error) {
	return p.execute("notice.tmpl", p.noticeView())
}

func (p *Pages) renderBlockList(now time.Time) ([]byte, string, error) {
	return p.execute("blocklist.tmpl", p.blockListView(now))
}

func (p *Pages) renderBlockListJSON(now time.Time) ([]byte, string, error) {
	body, err := p.blockListJSON(now)
	return body, contentJSON, err
}

// errorView is what error.tmpl renders.
type errorView struct {
	Lang, Title, Message string
}

func errorPage(status int, message string) renderFunc {
	return func(p *Pages, _ time.Time) ([]byte, string, error) {
		title := strconv.Itoa(status) + " " + http.StatusText(status)
		return p.execute("error.tmpl", errorView{Lang: p.op.Language, Title: title, Message: message})
	}
}

func (p *Pages) execute(name string, data any) ([]byte, string, error) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), contentHTML, nil
}
