package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"

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
	d.log.Info("reload: exit policy, block list, public pages, users and certificates in force")
	return nil
}

// apply opens the listeners cfg adds, builds everything a reload changes, then swaps it all
// and closes the listeners cfg removes; or, on any error, closes what it opened and changes
// nothing.
func (d *Daemon) apply(cfg *config.Config) error {
	added, removed, err := d.listenerChanges(cfg)
	if err != nil {
		return err
	}
	undo := func() {
		for _, l := range added {
			d.closeListener(l)
		}
	}
	own := d.ownListeners()
	for _, l := range added {
		own = append(own, l.ln.Addr().(*net.TCPAddr).AddrPort())
	}
	p, err := d.buildPolicy(cfg, own)
	if err != nil {
		undo()
		return err
	}
	pages, err := d.buildPages(cfg, p)
	if err != nil {
		undo()
		return err
	}
	verifier, err := d.buildVerifier(cfg.Users())
	if err != nil {
		undo()
		return err
	}
	if err := d.reloadCerts(cfg); err != nil { // the last step that can fail: it swaps itself
		undo()
		return err
	}
	d.policy.current.Store(p)
	d.notice.pages.Store(pages)
	d.guard.verifier.Store(verifier)
	d.swapListeners(added, removed)
	return nil
}

// listenerChanges opens the listeners whose address cfg adds and returns them with those
// whose address it removes. A listener kept at the same address keeps its protocols and TLS
// mode until a restart.
func (d *Daemon) listenerChanges(cfg *config.Config) (added, removed []boundListener, err error) {
	d.mu.Lock()
	current := append([]boundListener(nil), d.listeners...)
	d.mu.Unlock()
	have := map[netip.AddrPort]bool{}
	for _, l := range current {
		have[l.address] = true
	}
	want := map[netip.AddrPort]bool{}
	for _, l := range cfg.Listeners {
		want[l.Address] = true
		if have[l.Address] {
			continue
		}
		bl, err := d.openListener(l)
		if err != nil {
			for _, a := range added {
				d.closeListener(a)
			}
			return nil, nil, fmt.Errorf("listener %s: %w", l.DisplayName(), err)
		}
		added = append(added, bl)
	}
	for _, l := range current {
		if !want[l.address] {
			removed = append(removed, l)
		}
	}
	return added, removed, nil
}

// swapListeners starts serving the added listeners, then closes the removed ones: new
// listeners open before removed ones close, and open connections stay.
func (d *Daemon) swapListeners(added, removed []boundListener) {
	d.mu.Lock()
	for _, l := range added {
		d.listeners = append(d.listeners, l)
	}
	d.listeners = slices.DeleteFunc(d.listeners, func(l boundListener) bool {
		return slices.ContainsFunc(removed, func(r boundListener) bool { return r.ln == l.ln })
	})
	d.mu.Unlock()
	for _, l := range added {
		d.serveListener(l)
	}
	for _, l := range removed {
		d.log.Info("reload: listener closed; its open connections stay", "listener", l.name)
		d.closeListener(l)
	}
}

// restartNeeded names the sections that differ between old and new and that a reload does
// not apply.
func restartNeeded(old, new *config.Config) []string {
	pairs := []struct {
		name     string
		old, new any
	}{
		{"data_dir", old.DataDir, new.DataDir},
		{"listeners (protocols, auth or TLS mode at an unchanged address)", keptModes(old, new), keptModes(new, old)},
		{"gateway", old.Gateway, new.Gateway},
		{"guard", old.Guard, new.Guard},
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

// keptModes maps each listener address of c that other also has to what a reload does not
// change on it: its protocols and TLS mode.
func keptModes(c, other *config.Config) map[netip.AddrPort]string {
	in := map[netip.AddrPort]bool{}
	for _, l := range other.Listeners {
		in[l.Address] = true
	}
	m := map[netip.AddrPort]string{}
	for _, l := range c.Listeners {
		if in[l.Address] {
			m[l.Address] = fmt.Sprint(l.Protocols, l.TLS(), l.Auth)
		}
	}
	return m
}
