package daemon

import (
	"reflect"

	"sortie.dev/sortie/internal/config"
)

// Reload applies a new configuration without dropping anything: the exit policy, the block
// list and the public pages are rebuilt and swapped atomically, so established tunnels keep
// running and the next request sees the new rules. A configuration that does not build
// leaves the old one in force and returns why. Changes to other sections take effect after a
// restart; each is reported.
func (d *Daemon) Reload(cfg *config.Config) error {
	err := d.apply(cfg)
	for _, f := range d.onReload {
		f(err == nil)
	}
	if err != nil {
		return err
	}
	for _, section := range restartNeeded(d.cfg, cfg) {
		d.log.Warn("reload: " + section + " changed; the change takes effect after a restart")
	}
	d.log.Info("reload: exit policy, block list, public pages and certificates in force")
	return nil
}

// apply builds everything a reload changes, then swaps it all, or nothing.
func (d *Daemon) apply(cfg *config.Config) error {
	p, err := d.buildPolicy(cfg)
	if err != nil {
		return err
	}
	pages, err := d.buildPages(cfg, p)
	if err != nil {
		return err
	}
	if err := d.reloadCerts(cfg); err != nil { // the last step that can fail: it swaps itself
		return err
	}
	d.policy.current.Store(p)
	d.notice.pages.Store(pages)
	return nil
}

// restartNeeded names the sections that differ between old and new and that a reload does
// not apply.
func restartNeeded(old, new *config.Config) []string {
	pairs := []struct {
		name     string
		old, new any
	}{
		{"data_dir", old.DataDir, new.DataDir},
		{"listeners", old.Listeners, new.Listeners},
		{"gateway", old.Gateway, new.Gateway},
		{"egress.dial_timeout", old.Egress.DialTimeout, new.Egress.DialTimeout},
		{"resolver", old.Resolver, new.Resolver},
		{"metrics", old.Metrics, new.Metrics},
		{"log", old.Log, new.Log},
		{"admin", old.Admin, new.Admin},
		{"doh", old.DoH, new.DoH},
		{"notice.listeners", old.Notice.Listeners, new.Notice.Listeners},
	}
	var out []string
	for _, p := range pairs {
		if !reflect.DeepEqual(p.old, p.new) {
			out = append(out, p.name)
		}
	}
	return out
}
