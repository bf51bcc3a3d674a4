package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"
)

// fetchTimeout bounds a whole FetchRing call when ctx has no earlier deadline.
const fetchTimeout = 30 * time.Second

// FetchRing asks the admin endpoint on the unix socket at socketPath for the ring log, as JSON
// when json is true and as text otherwise, and copies it to w. When the socket does not exist
// the error says so and suggests that `sortie serve` is not running.
func FetchRing(ctx context.Context, socketPath string, json bool, w io.Writer) error {
	if _, err := os.Stat(socketPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("is sortie serve running? admin socket %s not found", socketPath)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	url := "http://sortie-admin/debug/ring"
	if json {
		url += "?format=json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("admin: build request: %w", err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("admin: fetch ring from %s (is sortie serve running?): %w", socketPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin: fetch ring: %s", resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("admin: read ring: %w", err)
	}
	return nil
}
