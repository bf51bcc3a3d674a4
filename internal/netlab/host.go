package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// hostIface is the name of a host's end of its veth pair, inside its namespace.
const hostIface = "eth0"

// Host is one network namespace of a Lab.
type Host struct {
	name  string
	ns    string
	addrs []netip.Prefix
}

// Name returns the host's name as given to Lab.Host or Lab.Isolated.
func (h *Host) Name() string { return h.name }

// Namespace returns the name of the host's network namespace, as ip netns knows it.
func (h *Host) Namespace() string { return h.ns }

// Addrs returns the host's addresses with their prefix lengths.
func (h *Host) Addrs() []netip.Prefix { return append([]netip.Prefix(nil), h.addrs...) }

// link adds the veth pair (root side named veth), brings both ends up, and addresses and
// routes them.
func (h *Host) link(veth string, addrs []netip.Prefix) error {
	steps := [][]string{
		{"link", "add", veth, "type", "veth", "peer", "name", hostIface, "netns", h.ns},
		{"link", "set", veth, "up"},
		{"-n", h.ns, "link", "set", hostIface, "up"},
	}
	for _, a := range addrs {
		gw := netip.PrefixFrom(firstHost(a), a.Bits())
		steps = append(steps,
			addrAdd(nil, veth, gw),
			addrAdd([]string{"-n", h.ns}, hostIface, a),
			defaultRoute(h.ns, gw.Addr()))
	}
	for _, args := range steps {
		if err := runIP(args...); err != nil {
			return err
		}
	}
	h.addrs = append([]netip.Prefix(nil), addrs...)
	return nil
}

// addrAdd returns the ip arguments that give dev the address a; IPv6 skips duplicate
// address detection so that the address is usable at once.
func addrAdd(prefix []string, dev string, a netip.Prefix) []string {
	args := append(append([]string(nil), prefix...), "addr", "add", a.String(), "dev", dev)
	if a.Addr().Is6() {
		args = append(args, "nodad")
	}
	return args
}

// defaultRoute returns the ip arguments for the host's default route of gw's family.
func defaultRoute(ns string, gw netip.Addr) []string {
	family := "-4"
	if gw.Is6() {
		family = "-6"
	}
	return []string{"-n", ns, family, "route", "replace", "default", "via", gw.String(), "dev", hostIface}
}

// Listen opens a listener inside the host's namespace; see net.Listen. The socket stays in
// the host's namespace for its whole life. Give literal addresses: names are not resolved in
// the namespace.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	var ln net.Listener
	err := h.Do(func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	return ln, err
}

// ListenPacket opens a packet socket inside the host's namespace; see net.ListenPacket.
func (h *Host) ListenPacket(network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := h.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	return pc, err
}

// DialContext connects from inside the host's namespace to a literal address; see
// net.Dialer.DialContext.
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Command returns a command that runs name with args inside the host's namespace (through
// ip netns exec).
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// Do runs fn on an OS thread switched into the host's namespace and waits for it. Sockets fn
// creates belong to the host's namespace; fn must not start goroutines that make sockets, nor
// resolve names. The thread returns to its namespace afterwards, or is discarded if it cannot.
func (h *Host) Do(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- h.inNamespace(fn) }()
	return <-done
}

// inNamespace runs fn with the calling goroutine locked to a thread in the host's namespace.
// When switching back fails it returns with the thread still locked, so the runtime ends the
// thread with the goroutine instead of reusing it in the wrong namespace.
func (h *Host) inNamespace(fn func() error) error {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netlab: own namespace: %w", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open("/run/netns/"+h.ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netlab: host %s: %w", h.name, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netlab: host %s: setns: %w", h.name, err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, fmt.Errorf("netlab: host %s: setns back: %w", h.name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
