package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/daemon"
	"sortie.dev/sortie/internal/egress"
	"sortie.dev/sortie/internal/policy"
	"sortie.dev/sortie/internal/refusal"
)

// Exit codes of `sortie policy explain`, for scripts.
const (
	explainAllowed  = 0 // at least one address would be allowed
	explainRefused  = 1 // every address is refused
	explainUsage    = 2 // a usage or configuration error
	explainNoSuchNX = 3 // the name does not resolve
)

func policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Inspect the exit policy",
	}
	cmd.AddCommand(explainCmd())
	return cmd
}

func explainCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "explain HOST[:PORT]",
		Short: "Show what the exit policy decides for a destination, address by address",
		Long: "Normalise HOST as the gateway does, resolve it through the configured nameservers " +
			"(numeric hosts need no network), and print for each address the verdict, the reason " +
			"and the rule with its configuration line. The port is 80 when none is given.\n\n" +
			"Exit status: 0 when at least one address would be allowed, 1 when all are refused, " +
			"2 on a usage or configuration error, 3 when the name does not resolve.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			cfg, err := loadConfig(path, log)
			if err != nil {
				return &exitError{code: explainUsage, err: err}
			}
			code, err := explain(cmd.Context(), cmd.OutOrStdout(), cfg, args[0])
			if err != nil {
				return &exitError{code: code, err: err}
			}
			if code != explainAllowed {
				return &exitError{code: code, err: errQuiet}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "YAML configuration file (default: the embedded one)")
	return cmd
}

// errQuiet ends a command with its exit code and no further message: the output said it all.
var errQuiet = errors.New("")

// explain writes the decision for target to w and returns the exit code.
func explain(ctx context.Context, w io.Writer, cfg *config.Config, target string) (int, error) {
	host, port, err := splitTarget(target)
	if err != nil {
		return explainUsage, err
	}
	p, err := daemon.Policy(cfg)
	if err != nil {
		return explainUsage, err
	}
	name, addr, err := policy.NormalizeHost(host)
	if refusal.ReasonOf(err) == refusal.Policy {
		fmt.Fprintf(w, "name %s, port %d\n  (name)  refuse  policy  %s\n", host, port, err)
		return explainRefused, nil
	}
	if err != nil {
		return explainUsage, fmt.Errorf("%s: %w", host, err)
	}
	now := time.Now()
	if addr.IsValid() {
		fmt.Fprintf(w, "address %s, port %d\n", addr, port)
		return report(w, p, []netip.Addr{addr}, port, now), nil
	}
	fmt.Fprintf(w, "name %s, port %d\n", name, port)
	if v := p.DecideName(name, port, now); !v.Allow {
		fmt.Fprintf(w, "  (name)  refuse  %s  %s\n", v.Reason, ruleText(v.Rule))
		return explainRefused, nil
	}
	addrs, err := lookup(ctx, cfg, name)
	if err != nil || len(addrs) == 0 {
		fmt.Fprintf(w, "  does not resolve\n")
		return explainNoSuchNX, nil
	}
	return report(w, p, addrs, port, now), nil
}

// splitTarget splits HOST[:PORT], [V6][:PORT] or a bare IPv6 address; the port defaults to 80.
func splitTarget(s string) (string, uint16, error) {
	if _, err := netip.ParseAddr(s); err == nil {
		return s, 80, nil
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		if len(s) > 0 && s[0] == '[' && s[len(s)-1] == ']' {
			return s[1 : len(s)-1], 80, nil
		}
		return s, 80, nil
	}
	n, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("port %q: want 1 to 65535", portText)
	}
	return host, uint16(n), nil
}

// lookup resolves name's IPv6 and IPv4 addresses through the configured nameservers.
func lookup(ctx context.Context, cfg *config.Config, name string) ([]netip.Addr, error) {
	var ns []netip.AddrPort
	for _, n := range cfg.Resolver.Nameservers {
		ns = append(ns, n.AddrPort())
	}
	r := egress.NewResolver(ns, cfg.Resolver.Timeout.D())
	ctx, cancel := context.WithTimeout(ctx, 2*cfg.Resolver.Timeout.D())
	defer cancel()
	var out []netip.Addr
	var firstErr error
	for _, network := range []string{"ip6", "ip4"} {
		addrs, err := r.LookupNetIP(ctx, network, name+".")
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, a := range addrs {
			if a = a.Unmap(); !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// report prints one line per address and returns the exit code.
func report(w io.Writer, p *policy.Policy, addrs []netip.Addr, port uint16, now time.Time) int {
	code := explainRefused
	for _, a := range addrs {
		v := p.Decide(policy.Query{Addr: a, Port: port, Proto: policy.TCP, Now: now})
		verdict, reason := "refuse", v.Reason.String()
		if v.Allow {
			verdict, reason, code = "accept", "allowed", explainAllowed
		}
		fmt.Fprintf(w, "  %-39s  %s  %s  %s\n", a, verdict, reason, ruleText(v.Rule))
	}
	return code
}

// ruleText names the rule that decided, with where it was written.
func ruleText(r policy.RuleRef) string {
	where := r.Origin.String()
	switch {
	case r.Source != "" && r.Line > 0:
		where = r.Source + ":" + strconv.Itoa(r.Line)
	case r.Source != "":
		where = r.Source
	}
	return fmt.Sprintf("rule %q (%s)", r.Text, where)
}
