// Command loadtest puts Sortie under the attacks of docs/hardening.md on loopback and measures
// how it stands: idle tunnels held open, a flood of malformed handshakes, slowloris
// connections, and a port scan and a brute-force pattern through each proxy mode (HTTP
// forward, CONNECT, SOCKS5, SOCKS4a). During each, a well-behaved client keeps fetching a page
// through Sortie; its latency is reported as a ratio to quiet conditions.
//
// Three processes take part, each with its own open-file limit: Sortie (the real binary,
// built with go build and started with a generated configuration), the origin and the load
// generator (this binary again, re-executed with the hidden -role flag). The attackers are
// bound to their own loopback sources (127.66.x.y), the well-behaved client to 127.77.0.1,
// the origin listens on 127.55.x.y, which the configuration allows as a destination.
//
// Run it from the module root:
//
//	go run ./loadtest            # the figures of docs/hardening.md (a few minutes)
//	go run ./loadtest -reduced   # the scale of the test suite (under a minute)
//
// Every loop is bounded in count and time, floods are paced, and nothing leaves the machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-role" {
		os.Exit(runRole(os.Args[2], os.Args[3:]))
	}
	reduced := flag.Bool("reduced", false, "run at the reduced scale of the test suite")
	sortie := flag.String("sortie", "", "the sortie binary to test (default: go build ./cmd/sortie)")
	only := flag.String("only", "", "run only this scenario: idle, malformed, slowloris, scan, brute")
	n := flag.Int("n", 0, "with -only: connections, handshakes or probes instead of the scale's")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sc := fullScale()
	if *reduced {
		sc = reducedScale()
	}
	if *only != "" {
		sc = sc.only(*only)
		if *n > 0 && len(sc.Scenarios) == 1 {
			sc.Scenarios[0].N = *n
		}
	}
	rep, err := run(ctx, options{scale: sc, sortie: *sortie, progress: os.Stderr})
	if rep != nil {
		rep.write(os.Stdout)
		if os.Getenv("LOADTEST_DEBUG") != "" {
			for _, res := range rep.Results {
				fmt.Fprintf(os.Stderr, "%s: sortie's output:\n%s\n", res.Scenario.Name, res.Output)
				for k, v := range res.Metrics {
					if v != 0 && strings.HasPrefix(k, "sortie_") {
						fmt.Fprintf(os.Stderr, "%s %v\n", k, v)
					}
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// runRole runs one of the helper processes: the origin or the load generator. Both end when
// their standard input closes (their parent is gone or done with them).
func runRole(role string, args []string) int {
	var err error
	switch role {
	case "origin":
		err = runOrigin(os.Stdin, os.Stdout)
	case "load":
		if len(args) != 1 {
			err = fmt.Errorf("load: want one JSON argument, got %d", len(args))
			break
		}
		err = runLoad(args[0], os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadtest %s: %v\n", role, err)
		return 1
	}
	return 0
}

// deadline bounds a whole run, whatever happens.
const deadline = 15 * time.Minute
