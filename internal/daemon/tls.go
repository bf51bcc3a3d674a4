package daemon

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"

	"sortie.dev/sortie/internal/config"
)

// certStore holds a TLS listener's certificate; a reload swaps it.
type certStore struct {
	cert atomic.Pointer[tls.Certificate]
}

func (s *certStore) load(certFile, keyFile string) error {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	s.cert.Store(&c)
	return nil
}

func (s *certStore) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert.Load(), nil
}

// wrapTLS makes ln an HTTPS proxy port when the listener has a certificate. The handshake
// happens on the first read, inside the gateway's handshake deadline.
func (d *Daemon) wrapTLS(ln net.Listener, l config.Listener) (net.Listener, *certStore, error) {
	if !l.TLS() {
		return ln, nil, nil
	}
	store := &certStore{}
	if err := store.load(d.cfg.Path(l.TLSCertFile), d.cfg.Path(l.TLSKeyFile)); err != nil {
		return nil, nil, fmt.Errorf("listener %s: %w", l.DisplayName(), err)
	}
	tc := &tls.Config{
		GetCertificate: store.get,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
	return tls.NewListener(ln, tc), store, nil
}

// reloadCerts re-reads the certificate of every TLS listener that cfg still has at the same
// address; it changes nothing unless every one loads.
func (d *Daemon) reloadCerts(cfg *config.Config) error {
	type pending struct {
		store *certStore
		cert  tls.Certificate
	}
	var ps []pending
	d.mu.Lock()
	current := append([]boundListener(nil), d.listeners...)
	d.mu.Unlock()
	for _, bl := range current {
		if bl.certs == nil {
			continue
		}
		for _, l := range cfg.Listeners {
			if l.Address != bl.address || !l.TLS() {
				continue
			}
			c, err := tls.LoadX509KeyPair(cfg.Path(l.TLSCertFile), cfg.Path(l.TLSKeyFile))
			if err != nil {
				return fmt.Errorf("listener %s: %w", l.DisplayName(), err)
			}
			ps = append(ps, pending{bl.certs, c})
		}
	}
	for _, p := range ps {
		p.store.cert.Store(&p.cert)
	}
	return nil
}
