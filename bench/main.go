// Command bench measures Sortie side by side with a direct connection, a bare reference proxy
// and the Debian proxies found installed (tinyproxy, squid, privoxy, dante, microsocks), on
// loopback only, with the proxy under test pinned to core 0 and the load and the origin to
// core 1, each a separate process. It prints a table and writes BENCHMARKS.md.
//
//	go run ./bench            # full run: 5 runs per contender, 1,000 and 9,000 idle tunnels
//	go run ./bench -quick     # smoke run: 1 run, short loads, 1,000 idle tunnels
//	go run ./bench -figures idle -only sortie -runs 1 -out ""   # idle tunnels only, no report file
//
// The same binary plays the other roles when re-executed with -role: origin, load, bare.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	role := fs.String("role", "", "internal: origin, load or bare")
	addr := fs.String("addr", "", "internal: listen address (bare) or ip (origin)")
	spec := fs.String("spec", "", "internal: the load's JSON spec")
	var o options
	fs.BoolVar(&o.Quick, "quick", false, "smoke run: 1 run, short loads, 1,000 idle tunnels only")
	fs.IntVar(&o.Runs, "runs", 5, "runs per contender (median and spread over them)")
	fs.StringVar(&o.Out, "out", "BENCHMARKS.md", "report file; empty: none")
	fs.StringVar(&o.Src, "src", ".", "the Sortie checkout to build")
	fs.StringVar(&o.Sortie, "sortie", "", "a built sortie binary instead of building -src")
	fs.StringVar(&o.Only, "only", "", "comma-separated contenders to run (direct always runs)")
	fs.StringVar(&o.Figures, "figures", "all", "comma-separated phases to measure: loads (throughput, rates, echo), idle (idle tunnels and the bulk tunnel beside them), or all")
	fs.StringVar(&o.Profile, "perf", "", "NAME or NAME:FIGURE: perf-record that contender's proxy during one load (default figure connect1_mbs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *role {
	case "origin":
		return runOrigin(*addr)
	case "load":
		return runLoad(*spec)
	case "bare":
		return runBare(*addr)
	case "":
		return orchestrate(o)
	}
	return fmt.Errorf("unknown role %q", *role)
}
