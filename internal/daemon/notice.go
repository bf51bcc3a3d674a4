package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/gateway"
	"sortie.dev/sortie/internal/notice"
	"sortie.dev/sortie/internal/policy"
	"sortie.dev/sortie/internal/scrub"
)

// noticeState holds the public pages in force; a reload swaps them atomically. Nil pages
// (no operator configured) leave the gateway's own small page in place.
type noticeState struct {
	pages atomic.Pointer[notice.Pages]
}

// setupNotice builds the public pages, shows them to browsers on the proxy ports and serves
// them alone on the notice listeners.
func (d *Daemon) setupNotice() error {
	pages, err := d.buildPages(d.cfg, d.policy.current.Load())
	if err != nil {
		return err
	}
	d.notice.pages.Store(pages)
	d.gw.Page = http.HandlerFunc(d.servePage)
	for i, a := range d.cfg.Notice.Listeners {
		ln, err := d.listenTCP(a.String())
		if err != nil {
			return fmt.Errorf("notice.listeners[%d]: %w", i, err)
		}
		d.closers = append(d.closers, func() { ln.Close() })
		d.services = append(d.services, service{name: "notice listener " + a.String(), run: func(ctx context.Context) error {
			return d.serveNotice(ctx, ln)
		}})
	}
	return nil
}

// buildPages builds the public pages of cfg, or nil when no operator is configured.
func (d *Daemon) buildPages(cfg *config.Config, p *policy.Policy) (*notice.Pages, error) {
	n := cfg.Notice
	if n.Operator == "" {
		return nil, nil
	}
	pages, err := notice.New(notice.Options{
		Operator: notice.Operator{
			Name: n.Operator, Contact: n.Contact, Jurisdiction: n.Jurisdiction,
			Website: n.Website, ExclusionHowTo: n.ExclusionHowTo, Language: n.Language,
		},
		RingTTL: cfg.Log.RingTTL.D(),
		Policy:  p,
	})
	if err != nil {
		return nil, fmt.Errorf("notice: %w", err)
	}
	return pages, nil
}

// servePage answers a browser on a proxy port or a notice listener with the pages in force.
func (d *Daemon) servePage(w http.ResponseWriter, r *http.Request) {
	if p := d.notice.pages.Load(); p != nil {
		p.Handler().ServeHTTP(w, r)
		return
	}
	gateway.DefaultPage.ServeHTTP(w, r)
}

// serveNotice serves the public pages on ln until ctx ends. Nothing about visitors is
// logged: no access log, and the server's own error log is scrubbed of addresses.
func (d *Daemon) serveNotice(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           http.HandlerFunc(d.servePage),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          scrub.ErrorLog(d.log),
	}
	return serveHTTP(ctx, srv, ln)
}
