package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"
)

// cfgCmp compares Configs by their values, not by where they came from.
var cfgCmp = cmp.Options{
	cmpopts.IgnoreUnexported(Config{}, Policy{}),
	cmpopts.EquateComparable(Date{}),
	cmpopts.EquateComparable(netip.AddrPort{}, netip.Prefix{}, netip.Addr{}, Nameserver{}),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// problemLines returns the lines of a joined error, or nil for a nil error.
func problemLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// writeFile writes content to name in dir with mode perm and returns its path.
func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // WriteFile's mode passes through the umask
		t.Fatal(err)
	}
	return p
}
