// Command sortie is the exit gateway and operations suite for people who run privacy exits:
// an HTTP forward, CONNECT and SOCKS4a/5 proxy on one port that keeps nothing about its users.
// Each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	root := &cobra.Command{
		Use:           "sortie",
		Short:         "Sortie: an exit gateway for privacy networks",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), checkCmd(), policyCmd(), versionCmd(), ringCmd(), userCmd(), deskCmd())
	if err := root.Execute(); err != nil {
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "sortie:", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(2)
	}
}
