// Package netlab builds test hosts out of Linux network namespaces: a namespace per host, a
// veth pair linking it to the root namespace, addresses from the documentation ranges, and
// helpers that open sockets or run commands inside a host. It is test support only; no
// production code imports it. It needs root and iproute2's ip.
package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxPrefix leaves room in a 15-character interface name for a two-digit host number.
const maxPrefix = 12

// ipTimeout bounds every ip invocation.
const ipTimeout = 10 * time.Second

// Require skips the test when network namespaces cannot be used here (not root, no ip,
// namespaces refused), saying why. With CI=true it fails instead: CI must run these tests.
func Require(t testing.TB) {
	t.Helper()
	if err := usable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("netlab: network namespaces needed with CI=true: %v", err)
		}
		t.Skipf("netlab: network namespaces unusable: %v", err)
	}
}

// usable reports why network namespaces cannot be made, or nil.
func usable() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("iproute2: %w", err)
	}
	probe := "netlabprobe" + strconv.Itoa(os.Getpid())
	if err := runIP("netns", "add", probe); err != nil {
		return err
	}
	return runIP("netns", "del", probe)
}

// Lab is one test's set of hosts. Everything it makes is removed when the test ends.
type Lab struct {
	t      testing.TB
	prefix string

	mu       sync.Mutex
	hosts    []*Host
	nextVeth int
	prefixes map[netip.Prefix]string // host prefix -> host name, one host per subnet
}

// New returns an empty lab whose namespaces are named PREFIX-name and whose root-side
// interfaces start with PREFIX. The prefix must be unique per test package (labs with the
// same prefix must not run at once): New first removes leftovers of earlier runs that carry
// it, and registers a cleanup that removes everything the lab made, even when the test fails.
func New(t testing.TB, prefix string) *Lab {
	t.Helper()
	Require(t)
	if prefix == "" || len(prefix) > maxPrefix || strings.ContainsAny(prefix, "-/ \t") {
		t.Fatalf("netlab: prefix %q must be 1 to %d characters without '-', '/' or spaces", prefix, maxPrefix)
	}
	if err := removeLeftovers(prefix); err != nil {
		t.Fatalf("netlab: removing leftovers: %v", err)
	}
	if err := register(registryDir, prefix); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	if err := guardRanges(); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	l := &Lab{t: t, prefix: prefix, prefixes: map[netip.Prefix]string{}}
	t.Cleanup(func() {
		if err := removeLeftovers(prefix); err != nil {
			t.Errorf("netlab: cleanup: %v", err)
		}
		last, err := unregister(registryDir, prefix)
		if err == nil && last {
			err = unguardRanges()
		}
		if err != nil {
			t.Errorf("netlab: cleanup: %v", err)
		}
	})
	return l
}

// testRanges are the documentation ranges test hosts are addressed from.
var testRanges = []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"}

// guardRanges makes the documentation ranges unreachable from the root namespace unless a
// lab's veth routes part of them: if a host's link disappears (another run cleaning up, a
// failed set-up), its traffic is refused here instead of following the default route out of
// the machine. The routes have a high metric, so a lab's own routes win; a range this machine
// is already on is left alone. The last lab alive on the machine removes them (registry.go).
func guardRanges() error {
	for _, r := range testRanges {
		p := netip.MustParsePrefix(r)
		if notOnMachine(p) != nil {
			continue
		}
		out, err := outputIP("route", "show", "table", "main", "type", "unreachable", "match", r)
		if err == nil && strings.Contains(out, r) {
			continue
		}
		family := "-4"
		if p.Addr().Is6() {
			family = "-6"
		}
		if err := runIP(family, "route", "add", "unreachable", r, "metric", "4000"); err != nil && !strings.Contains(err.Error(), "File exists") {
			return fmt.Errorf("guarding %s: %w", r, err)
		}
	}
	return nil
}

// removeLeftovers deletes the namespaces and root-side links whose names start with prefix.
func removeLeftovers(prefix string) error {
	var errs []error
	nss, err := namespaces()
	if err != nil {
		return err
	}
	for _, ns := range nss {
		if strings.HasPrefix(ns, prefix+"-") {
			errs = append(errs, runIP("netns", "del", ns))
		}
	}
	links, err := rootLinks()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, link := range links {
		if strings.HasPrefix(link, prefix) {
			errs = append(errs, delLink(link))
		}
	}
	return errors.Join(errs...)
}

// delLink deletes a link; one already gone (the peer of a veth deleted before it) is fine.
func delLink(name string) error {
	err := runIP("link", "del", name)
	if err == nil {
		return nil
	}
	if runIP("link", "show", name) != nil {
		return nil
	}
	return err
}

// namespaces lists the named network namespaces.
func namespaces() ([]string, error) {
	out, err := outputIP("netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// rootLinks lists the interface names of the root namespace.
func rootLinks() ([]string, error) {
	out, err := outputIP("-o", "link", "show")
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(out) {
		// "5: name@if2: <...> ..."
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		names = append(names, name)
	}
	return names, nil
}

// Host makes a host: namespace PREFIX-name, linked to the root namespace by a veth pair. The
// host gets each of addrs (IPv6 without duplicate address detection, usable at once); the
// root side gets the first host address of each prefix (198.51.100.10/24 gives the root side
// 198.51.100.1/24), and the host routes by default through it. So the root namespace reaches
// the host directly. Each prefix may belong to one host of the lab only.
func (l *Lab) Host(name string, addrs ...netip.Prefix) *Host {
	l.t.Helper()
	veth, err := l.claim(name, addrs)
	if err != nil {
		l.t.Fatalf("netlab: host %s: %v", name, err)
	}
	h := l.newNamespace(name)
	if err := h.link(veth, addrs); err != nil {
		l.t.Fatalf("netlab: host %s: %v", name, err)
	}
	return h
}

// Isolated makes a host with nothing but its own loopback: the safe place for real clients
// that might try to reach the internet.
func (l *Lab) Isolated(name string) *Host {
	l.t.Helper()
	return l.newNamespace(name)
}

// newNamespace adds the namespace PREFIX-name with its loopback up.
func (l *Lab) newNamespace(name string) *Host {
	l.t.Helper()
	if name == "" || strings.ContainsAny(name, "/ \t") {
		l.t.Fatalf("netlab: bad host name %q", name)
	}
	h := &Host{name: name, ns: l.prefix + "-" + name}
	if err := runIP("netns", "add", h.ns); err != nil {
		l.t.Fatalf("netlab: host %s: %v", name, err)
	}
	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	if err := runIP("-n", h.ns, "link", "set", "lo", "up"); err != nil {
		l.t.Fatalf("netlab: host %s: %v", name, err)
	}
	return h
}

// claim reserves the host's prefixes and returns the name of its root-side interface.
func (l *Lab) claim(name string, addrs []netip.Prefix) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range addrs {
		if !a.IsValid() || a.Addr() == firstHost(a) || a.Addr() != a.Addr().Unmap() {
			return "", fmt.Errorf("address %v must be valid, unmapped and not the first host address of its prefix", a)
		}
		if other, ok := l.prefixes[a.Masked()]; ok {
			return "", fmt.Errorf("prefix %v already belongs to host %s", a.Masked(), other)
		}
		if err := notOnMachine(a.Masked()); err != nil {
			return "", err
		}
	}
	veth := l.prefix + strconv.Itoa(l.nextVeth)
	if len(veth) > 15 {
		return "", fmt.Errorf("too many hosts for interface name %q", veth)
	}
	for _, a := range addrs {
		l.prefixes[a.Masked()] = name
	}
	l.nextVeth++
	return veth, nil
}

// notOnMachine refuses a prefix that overlaps a network this machine is already on: giving
// its first address to a veth could take the address of the machine's real gateway, and test
// traffic would leave the machine. Some machines here sit on a documentation range.
func notOnMachine(p netip.Prefix) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			q, err := netip.ParsePrefix(a.String())
			if err == nil && q.Overlaps(p) {
				return fmt.Errorf("prefix %v overlaps %v on %s, a network this machine is already on: use another test range", p, q, ifc.Name)
			}
		}
	}
	return nil
}

// firstHost returns the first host address of p's network: 198.51.100.1 for 198.51.100.0/24.
func firstHost(p netip.Prefix) netip.Addr {
	return p.Masked().Addr().Next()
}

// runIP runs ip with args and returns its error with ip's own message.
func runIP(args ...string) error {
	_, err := outputIP(args...)
	return err
}

// outputIP runs ip with args and returns its standard output.
func outputIP(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ipTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
