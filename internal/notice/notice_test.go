package notice

import (
	"encoding/json"
	"flag"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	clock   = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	decided = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

// fixtureBlocks has an active domain entry, an expired prefix entry, and an entry whose
// reason tries to inject markup.
func fixtureBlocks() []policy.Block {
	return []policy.Block{
		{
			ID: "B-2026-001", Reason: "Court order against a phishing site", Basis: "court order",
			DecidedBy: "board", Decided: decided, NoticeURL: "https://exit.example.org/notices/B-2026-001",
			Review: ptr(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)),
			Domain: "Phish.Example.COM", IncludeSubdomains: true,
		},
		{
			ID: "B-2026-002", Reason: "Emergency: ongoing attack on a hospital network", Basis: "emergency",
			DecidedBy: "abuse desk", Decided: decided.AddDate(0, 1, 0), NoticeURL: "https://exit.example.org/notices/B-2026-002",
			Expires: ptr(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)),
			Prefix:  netip.MustParsePrefix("198.51.100.0/24"), Port: 443,
			BlockedBy: "https://desk.example.org/",
		},
		{
			ID: "B-2026-003", Reason: `<script>alert("x")</script> & "quotes"`, Basis: "terms",
			DecidedBy: "board", Decided: decided.AddDate(0, 2, 0), NoticeURL: "https://exit.example.org/notices/B-2026-003?a=1&b=<2>",
			Expires: ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)),
			Domain:  "bad.example.net", Port: 25,
		},
	}
}

func fixtureOptions(t *testing.T) Options {
	t.Helper()
	return Options{
		Operator: Operator{
			Name: "Example Privacy Association", Contact: "abuse@example.org", Jurisdiction: "Germany",
			Website: "https://example.org/",
		},
		RingTTL: 15 * time.Minute,
		Policy:  fixturePolicy(t, fixtureBlocks()),
		Now:     func() time.Time { return clock },
	}
}

// fixturePolicy is the notice's policy with the block list given.
func fixturePolicy(t *testing.T, blocks []policy.Block) *policy.Policy {
	t.Helper()
	return mustPolicy(t, policy.Options{
		Base: policy.BaseReduced, IPv6Exit: true,
		Rules:     mustRules(t, "reject 203.0.113.0/24:*\nreject6 *:5900"),
		Blocks:    blocks,
		BlockedBy: "https://example.org/",
	})
}

func mustPages(t *testing.T, o Options) *Pages {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "http://192.0.2.1"+path, nil))
	return rec
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	h := mustPages(t, fixtureOptions(t)).Handler()
	tests := []struct {
		name, path, golden, ctype string
	}{
		{name: "notice", path: "/", golden: "notice.html.golden", ctype: contentHTML},
		{name: "block list", path: "/blocklist", golden: "blocklist.html.golden", ctype: contentHTML},
		{name: "block list json", path: "/blocklist.json", golden: "blocklist.json.golden", ctype: contentJSON},
		{name: "not found", path: "/nope", golden: "notfound.html.golden", ctype: contentHTML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tt.path)
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			golden(t, tt.golden, rec.Body.Bytes())
		})
	}
}

func TestStatusAndHeaders(t *testing.T) {
	h := mustPages(t, fixtureOptions(t)).Handler()
	tests := []struct {
		name, method, path string
		status             int
		allow              string
		emptyBody          bool
	}{
		{name: "notice", method: http.MethodGet, path: "/", status: http.StatusOK},
		{name: "notice with query", method: http.MethodGet, path: "/?x=1", status: http.StatusOK},
		{name: "block list", method: http.MethodGet, path: "/blocklist", status: http.StatusOK},
		{name: "json", method: http.MethodGet, path: "/blocklist.json", status: http.StatusOK},
		{name: "head notice", method: http.MethodHead, path: "/", status: http.StatusOK, emptyBody: true},
		{name: "head json", method: http.MethodHead, path: "/blocklist.json", status: http.StatusOK, emptyBody: true},
		{name: "post", method: http.MethodPost, path: "/", status: http.StatusMethodNotAllowed, allow: "GET, HEAD"},
		{name: "delete list", method: http.MethodDelete, path: "/blocklist", status: http.StatusMethodNotAllowed, allow: "GET, HEAD"},
		{name: "options", method: http.MethodOptions, path: "/blocklist.json", status: http.StatusMethodNotAllowed, allow: "GET, HEAD"},
		{name: "unknown path", method: http.MethodGet, path: "/admin", status: http.StatusNotFound},
		{name: "trailing slash", method: http.MethodGet, path: "/blocklist/", status: http.StatusNotFound},
		{name: "head unknown", method: http.MethodHead, path: "/x", status: http.StatusNotFound, emptyBody: true},
		{name: "post unknown", method: http.MethodPost, path: "/x", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			want := map[string]string{
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"Cache-Control":           "public, max-age=300",
				"Allow":                   tt.allow,
			}
			got := map[string]string{}
			for k := range want {
				got[k] = rec.Header().Get(k)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if empty := rec.Body.Len() == 0; empty != tt.emptyBody {
				t.Errorf("body empty = %v, want %v", empty, tt.emptyBody)
			}
			if rec.Header().Get("Content-Length") == "" || rec.Header().Get("Content-Length") == "0" {
				t.Errorf("Content-Length = %q, want the body's length", rec.Header().Get("Content-Length"))
			}
		})
	}
}

// TestHeadOverRealServer checks that HEAD answers carry the GET body's length and no body
// through a real net/http server on loopback.
func TestHeadOverRealServer(t *testing.T) {
	srv := httptest.NewServer(mustPages(t, fixtureOptions(t)).Handler())
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	getResp, err := client.Get(srv.URL + "/blocklist")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(getResp.Body)
	getResp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	headResp, err := client.Head(srv.URL + "/blocklist")
	if err != nil {
		t.Fatal(err)
	}
	headResp.Body.Close()
	if headResp.StatusCode != http.StatusOK || headResp.ContentLength != int64(len(body)) {
		t.Errorf("HEAD = %d with length %d, want 200 with length %d", headResp.StatusCode, headResp.ContentLength, len(body))
	}
}

func TestEscaping(t *testing.T) {
	h := mustPages(t, fixtureOptions(t)).Handler()
	for _, path := range []string{"/blocklist", "/blocklist.json"} {
		t.Run(path, func(t *testing.T) {
			body := get(t, h, http.MethodGet, path).Body.String()
			for _, bad := range []string{"<script", "</script>", "<2>"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains unescaped %q", path, bad)
				}
			}
		})
	}
	body := get(t, h, http.MethodGet, "/blocklist").Body.String()
	if want := "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;"; !strings.Contains(body, want) {
		t.Errorf("block list lacks the escaped reason %q", want)
	}
	var doc BlockList
	if err := json.Unmarshal(get(t, h, http.MethodGet, "/blocklist.json").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Entries[0].Reason, fixtureBlocks()[2].Reason; got != want {
		t.Errorf("JSON reason = %q, want %q", got, want)
	}
}

func TestOperatorFieldsEscaped(t *testing.T) {
	o := fixtureOptions(t)
	o.Operator.Name = `Evil <b onmouseover="x">Ops</b>`
	o.Operator.Jurisdiction = "<iframe>"
	o.Operator.ExclusionHowTo = "Write <em>to us</em>.\n\nSecond paragraph."
	body := get(t, mustPages(t, o).Handler(), http.MethodGet, "/").Body.String()
	for _, bad := range []string{"<b ", "<iframe>", "<em>"} {
		if strings.Contains(body, bad) {
			t.Errorf("notice contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"<p>Write &lt;em&gt;to us&lt;/em&gt;.</p>", "<p>Second paragraph.</p>"} {
		if !strings.Contains(body, want) {
			t.Errorf("notice lacks %q", want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	h := mustPages(t, fixtureOptions(t)).Handler()
	var got BlockList
	dec := json.NewDecoder(get(t, h, http.MethodGet, "/blocklist.json").Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	b := fixtureBlocks()
	want := BlockList{
		Operator: "Example Privacy Association", Generated: "2026-11-22T03:00:00Z",
		Entries: []Entry{
			{
				ID: b[2].ID, Active: true, Reason: b[2].Reason, Basis: "terms", DecidedBy: "board",
				Decided: "2026-05-01T09:30:00Z", NoticeURL: b[2].NoticeURL, Expires: ptr("2027-01-01T00:00:00Z"),
				Domain: ptr("bad.example.net"), Port: ptr(uint16(25)), BlockedBy: "https://example.org/",
			},
			{
				ID: b[1].ID, Active: false, Reason: b[1].Reason, Basis: "emergency", DecidedBy: "abuse desk",
				Decided: "2026-04-01T09:30:00Z", NoticeURL: b[1].NoticeURL, Expires: ptr("2026-05-01T00:00:00Z"),
				Prefix: ptr("198.51.100.0/24"), Port: ptr(uint16(443)), BlockedBy: "https://desk.example.org/",
			},
			{
				ID: b[0].ID, Active: true, Reason: b[0].Reason, Basis: "court order", DecidedBy: "board",
				Decided: "2026-03-01T09:30:00Z", NoticeURL: b[0].NoticeURL, Review: ptr("2027-03-01T00:00:00Z"),
				Domain: ptr("phish.example.com"), IncludeSubdomains: true, BlockedBy: "https://example.org/",
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("block list JSON (-want +got):\n%s", diff)
	}
	for _, e := range got.Entries {
		for _, s := range []*string{&e.Decided, e.Expires, e.Review} {
			if s == nil {
				continue
			}
			if _, err := time.Parse(time.RFC3339, *s); err != nil {
				t.Errorf("entry %s: date %q is not RFC 3339: %v", e.ID, *s, err)
			}
		}
	}
}

func TestEmptyBlockListJSON(t *testing.T) {
	o := fixtureOptions(t)
	o.Policy = fixturePolicy(t, nil)
	body := get(t, mustPages(t, o).Handler(), http.MethodGet, "/blocklist.json").Body.String()
	if !strings.Contains(body, `"entries": []`) {
		t.Errorf("empty block list JSON = %s, want \"entries\": []", body)
	}
}

func TestExpiryFollowsTheClock(t *testing.T) {
	tests := []struct {
		name       string
		now        time.Time
		wantActive map[string]bool
	}{
		{
			name:       "before the emergency entry expires",
			now:        time.Date(2026, 4, 30, 23, 59, 59, 0, time.UTC),
			wantActive: map[string]bool{"B-2026-001": true, "B-2026-002": true, "B-2026-003": true},
		},
		{
			name:       "at its expiry",
			now:        time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
			wantActive: map[string]bool{"B-2026-001": true, "B-2026-002": false, "B-2026-003": true},
		},
		{
			name:       "after every expiry",
			now:        time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
			wantActive: map[string]bool{"B-2026-001": true, "B-2026-002": false, "B-2026-003": false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fixtureOptions(t)
			o.Now = func() time.Time { return tt.now }
			h := mustPages(t, o).Handler()
			var doc BlockList
			if err := json.Unmarshal(get(t, h, http.MethodGet, "/blocklist.json").Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range doc.Entries {
				got[e.ID] = e.Active
			}
			if diff := cmp.Diff(tt.wantActive, got); diff != "" {
				t.Errorf("active (-want +got):\n%s", diff)
			}
			html := get(t, h, http.MethodGet, "/blocklist").Body.String()
			for id, active := range tt.wantActive {
				marked := strings.Contains(html, `<tr class="expired" id="`+id+`">`)
				if marked == active {
					t.Errorf("entry %s: marked expired = %v, want %v", id, marked, !active)
				}
			}
		})
	}
}

func TestNoticeContent(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		want    []string
		notWant []string
	}{
		{
			name: "fixture",
			want: []string{
				"keeps no logs of connections", "at most 15 minutes", "hold no client addresses",
				`<a href="mailto:abuse@example.org">abuse@example.org</a>`, `<a href="/blocklist">block list</a>`,
				"Tor&#39;s reduced exit policy, after 2 rules of the operator&#39;s own",
				"<strong>IPv4</strong>: only ports 20-23, 43, 53,", "<strong>IPv6</strong>: only ports 20-23,",
				"One further rule applies to particular address ranges only.",
				"Private and special-purpose networks are never reached", DefaultExclusionHowTo[:40],
			},
			notWant: []string{"203.0.113", "private:*", "reject"},
		},
		{
			name:    "no ring, no policy, own texts",
			change:  func(o *Options) { o.RingTTL, o.Policy, o.Operator.ExclusionHowTo = 0, nil, "Mail us." },
			want:    []string{"Not even operational events are kept", "<p>Mail us.</p>", "Private and special-purpose networks are never reached"},
			notWant: []string{"at most", "Ports open", DefaultExclusionHowTo[:40]},
		},
		{
			name: "URL contact, own block list URL, language, IPv6 off",
			change: func(o *Options) {
				o.Operator.Contact = "https://example.org/abuse"
				o.Operator.Language = "de-DE"
				o.BlockListURL = "https://example.org/blocks"
				o.Policy = mustPolicy(t, policy.Options{})
			},
			want: []string{
				`<html lang="de-DE">`, `<a href="https://example.org/abuse">https://example.org/abuse</a>`,
				`<a href="https://example.org/blocks">block list</a>`, "<strong>IPv6</strong>: not served",
				"<strong>IPv4</strong>: all ports except 25, 119,", "follows Tor&#39;s default exit policy.",
			},
		},
		{
			name:    "no optional operator fields",
			change:  func(o *Options) { o.Operator.Jurisdiction, o.Operator.Website = "", "" },
			notWant: []string{"Jurisdiction", "Web site"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fixtureOptions(t)
			if tt.change != nil {
				tt.change(&o)
			}
			body := get(t, mustPages(t, o).Handler(), http.MethodGet, "/").Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("notice lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("notice contains %q", w)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *Options)
		want   []string
	}{
		{name: "no name", change: func(o *Options) { o.Operator.Name = " " }, want: []string{"operator name is required"}},
		{name: "no contact", change: func(o *Options) { o.Operator.Contact = "" }, want: []string{"operator contact is required"}},
		{name: "bad contact", change: func(o *Options) { o.Operator.Contact = "javascript:alert(1)" }, want: []string{"mail address or an http or https URL"}},
		{name: "bad website", change: func(o *Options) { o.Operator.Website = "ftp://example.org" }, want: []string{"website must be"}},
		{name: "bad language", change: func(o *Options) { o.Operator.Language = `en"><script>` }, want: []string{"language must be"}},
		{name: "negative ring", change: func(o *Options) { o.RingTTL = -time.Second }, want: []string{"ring TTL"}},
		{name: "bad block list URL", change: func(o *Options) { o.BlockListURL = "javascript:x" }, want: []string{"block list URL"}},
		{
			name: "every problem at once",
			change: func(o *Options) {
				o.Operator.Name, o.Operator.Contact, o.RingTTL = "", "", -time.Minute
			},
			want: []string{"operator name is required", "operator contact is required", "ring TTL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fixtureOptions(t)
			tt.change(&o)
			_, err := New(o)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestContactHref(t *testing.T) {
	tests := []struct {
		name, contact, want string
	}{
		{name: "mail", contact: "abuse@example.org", want: "mailto:abuse@example.org"},
		{name: "mailto", contact: "mailto:abuse@example.org", want: "mailto:abuse@example.org"},
		{name: "https", contact: "https://example.org/abuse", want: "https://example.org/abuse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contactHref(tt.contact)
			if err != nil || got != tt.want {
				t.Errorf("contactHref(%q) = %q, %v; want %q", tt.contact, got, err, tt.want)
			}
		})
	}
}

// TestSnapshotIsImmutable checks that changing the Options, or the block entries the policy
// hands out, after New changes nothing served.
func TestSnapshotIsImmutable(t *testing.T) {
	o := fixtureOptions(t)
	p := mustPages(t, o)
	before := get(t, p.Handler(), http.MethodGet, "/blocklist.json").Body.String()
	blocks := o.Policy.Blocks()
	blocks[0].Reason = "changed"
	for i := range blocks {
		if blocks[i].Expires != nil {
			*blocks[i].Expires = clock.AddDate(1, 0, 0)
		}
	}
	o.Operator.Name = "changed"
	if again := o.Policy.Blocks(); again[0].Reason == "changed" {
		t.Error("Policy.Blocks hands out the policy's own entries")
	}
	if after := get(t, p.Handler(), http.MethodGet, "/blocklist.json").Body.String(); after != before {
		t.Errorf("served JSON changed after the Options were edited:\n%s", cmp.Diff(before, after))
	}
}

func TestConcurrentRequests(t *testing.T) {
	h := mustPages(t, fixtureOptions(t)).Handler()
	want := get(t, h, http.MethodGet, "/blocklist").Body.String()
	var wg sync.WaitGroup
	errs := make(chan string, 32)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := get(t, h, http.MethodGet, "/blocklist").Body.String(); got != want {
					errs <- "a concurrent render differed"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestRenderFailureAnswers500(t *testing.T) {
	p := mustPages(t, fixtureOptions(t))
	p.tmpl = template.Must(template.New("other.tmpl").Parse("nothing"))
	rec := get(t, p.Handler(), http.MethodGet, "/")
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != "internal error\n" {
		t.Errorf("answer = %d %q, want 500 \"internal error\\n\"", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}
