package desk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/desk/intake"
	"sortie.dev/sortie/internal/store"
)

// Intervals of the desk's own loops.
const (
	processEvery = 30 * time.Second // processing also wakes at once when mail is stored
	purgeEvery   = 24 * time.Hour
)

// Config is the configuration the desk was made with.
func (d *Desk) Config() *config.Config { return d.cfg }

// Purge removes the raw mail and personal fields older than desk.retention.
func (d *Desk) Purge(ctx context.Context) (store.Purged, error) {
	return d.store.Purge(ctx, d.now().Add(-d.cfg.Desk.Retention.D()))
}

// Run runs the desk until ctx ends: the intake paths the configuration names, the
// processing of stored mail and the daily purge. An intake path that cannot start (a
// Maildir that is not one, an SMTP address in use) stops the desk with its reason; one that
// fails later (an IMAP server away) retries by itself.
func (d *Desk) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	run := func(name string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("desk: %s: %w", name, err)
				cancel()
			}
		})
	}
	paths, err := d.intakePaths()
	if err != nil {
		return err
	}
	for name, fn := range paths {
		run(name, fn)
	}
	run("processing", d.processLoop)
	run("purge", d.purgeLoop)
	d.log.Info("desk: running", "intake", len(paths), "engine", d.store.Engine())
	wg.Wait()
	close(errc)
	return <-errc // nil when the context ended
}

// intakePaths returns a runner for each intake path configured.
func (d *Desk) intakePaths() (map[string]func(context.Context) error, error) {
	c := d.cfg.Desk
	max := int64(c.MaxMessageBytes)
	paths := map[string]func(context.Context) error{}
	if c.Maildir != "" {
		w, err := intake.NewWatcher(c.Maildir, d, intake.WatchOptions{
			Interval: c.MaildirInterval.D(), MaxMessageBytes: max, Log: d.log})
		if err != nil {
			return nil, err
		}
		paths["maildir"] = func(ctx context.Context) error {
			defer w.Close()
			return w.Run(ctx)
		}
	}
	if im := c.IMAP; im.Address != "" {
		p, err := intake.NewIMAPPoller(d, intake.IMAPOptions{
			Address: im.Address, TLS: im.TLS, Username: im.Username, Password: im.Password.Reveal(),
			Folder: im.Folder, MoveTo: im.MoveTo, Interval: im.Interval.D(), MaxMessageBytes: max, Log: d.log})
		if err != nil {
			return nil, err
		}
		paths["imap"] = p.Run
	}
	if sm := c.SMTP; sm.Address != "" {
		srv, err := intake.NewSMTPServer(d, intake.SMTPOptions{
			Address: sm.Address, Hostname: sm.Hostname, MaxMessageBytes: max, Recipients: sm.Recipients,
			RatePerMinute: sm.RatePerMinute, Log: d.log})
		if err != nil {
			return nil, err
		}
		paths["smtp"] = func(ctx context.Context) error {
			ln, err := d.listenSMTP(ctx, sm.Address)
			if err != nil {
				return err
			}
			d.log.Info("desk: SMTP listening", "address", ln.Addr().String())
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
			}()
			err = srv.Serve(ln)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return paths, nil
}

// smtpBindWait bounds how long the SMTP listener waits for its address to be free: during an
// upgrade (SIGUSR2) the old process holds it until its desk stops.
const smtpBindWait = 2 * time.Minute

// listenSMTP listens on address, retrying while another process still holds it.
func (d *Desk) listenSMTP(ctx context.Context, address string) (net.Listener, error) {
	deadline := time.Now().Add(smtpBindWait)
	logged := false
	for {
		ln, err := net.Listen("tcp", address)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("listen %s: %w", address, err)
			}
			return ln, nil
		}
		if !logged {
			d.log.Warn("desk: SMTP address in use, waiting for it to be free", "address", address)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// processLoop processes stored mail when woken and every processEvery.
func (d *Desk) processLoop(ctx context.Context) error {
	t := time.NewTicker(processEvery)
	defer t.Stop()
	for {
		if _, err := d.ProcessPending(ctx); err != nil && ctx.Err() == nil {
			// A store that failed now may work at the next round: log and go on.
			d.log.Error("desk: processing", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

// purgeLoop applies the retention at start and daily.
func (d *Desk) purgeLoop(ctx context.Context) error {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if p, err := d.Purge(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("desk: retention purge", "error", err)
		} else if p.Messages > 0 {
			d.log.Info("desk: retention purge", "messages", p.Messages, "cases", p.Cases)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
