package intake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sortie.dev/sortie/internal/testkit"
)

// testCert makes a self-signed certificate for 127.0.0.1 and imap.example.org, writes it
// and its key as PEM files into dir, and returns it with a pool that trusts it.
func testCert(t *testing.T, dir string) (tls.Certificate, *x509.CertPool, string, string) {
	t.Helper()
	c := testkit.NewCert(t, "imap.example.org", "imap.example.org", "127.0.0.1")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c.Write(t, certFile, keyFile)
	return c.TLS, c.Pool(), certFile, keyFile
}

// mailClient is a second IMAP client the tests use to put mail in and look at flags.
func mailClient(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error), addr, user, pass string) *imapclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	c := imapclient.New(conn, nil)
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// appendMail appends bodies to folder, unseen.
func appendMail(t *testing.T, c *imapclient.Client, folder string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		cmd := c.Append(folder, int64(len(b)), nil)
		if _, err := cmd.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

// folderState returns the bodies in folder, split into seen and unseen, each sorted.
func folderState(t *testing.T, c *imapclient.Client, folder string) (seen, unseen []string) {
	t.Helper()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", folder, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	msgs, err := c.Fetch(imap.SeqSetNum(rangeSeq(sel.NumMessages)...), &imap.FetchOptions{
		Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", folder, err)
	}
	for _, m := range msgs {
		body := string(m.FindBodySection(&imap.FetchItemBodySection{Peek: true}))
		if slices.Contains(m.Flags, imap.FlagSeen) {
			seen = append(seen, body)
		} else {
			unseen = append(unseen, body)
		}
	}
	slices.Sort(seen)
	slices.Sort(unseen)
	return seen, unseen
}

func rangeSeq(n uint32) []uint32 {
	s := make([]uint32, n)
	for i := range s {
		s[i] = uint32(i) + 1
	}
	return s
}

// countLines counts the log lines that contain s.
func countLines(log, s string) int {
	n := 0
	for line := range strings.Lines(log) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
