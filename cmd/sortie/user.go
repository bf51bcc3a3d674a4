package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"sortie.dev/sortie/internal/auth"
)

// maxPasswordBytes caps a password read by `sortie user hash`.
const maxPasswordBytes = 4096

func userCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "user",
		Short:         "Manage proxy users",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.AddCommand(userHashCmd())
	return cmd
}

func userHashCmd() *cobra.Command {
	var memMiB, passes uint32
	var threads uint8
	cmd := &cobra.Command{
		Use:   "hash",
		Short: "Print the argon2id hash of a password read from standard input",
		Long: "Read a password from standard input (without echo, twice, when it is a terminal; " +
			"the first line when it is piped) and print its argon2id PHC string, the value of a " +
			"user's password_hash. The defaults cost about 64 MiB and 60 ms per check on a small " +
			"server; parameters below the minimum Sortie accepts are refused.",
		Example: "  sortie user hash\n  printf '%s\\n' \"$PASSWORD\" | sortie user hash --memory 128",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := auth.Params{Memory: memMiB << 10, Time: passes, Threads: threads}
			if memMiB > auth.MaxMemory>>10 {
				return &exitError{code: 2, err: fmt.Errorf("--memory %d MiB is above the %d MiB limit", memMiB, auth.MaxMemory>>10)}
			}
			if err := p.CheckStrength(0); err != nil {
				return &exitError{code: 2, err: err}
			}
			password, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if len(password) > 255 {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: SOCKS5 carries at most 255 bytes of password; this one works over HTTP only")
			}
			h, err := auth.NewHash(password, p, nil)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), h.String())
			return nil
		},
	}
	d := auth.DefaultParams
	cmd.Flags().Uint32Var(&memMiB, "memory", d.Memory>>10, "memory per check, in MiB")
	cmd.Flags().Uint32Var(&passes, "time", d.Time, "passes over the memory")
	cmd.Flags().Uint8Var(&threads, "threads", d.Threads, "lanes computed in parallel")
	return cmd
}

// readPassword reads the password: from a terminal without echo, twice; otherwise the first
// line of in.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readTerminalPassword(int(f.Fd()), prompt)
	}
	return readPasswordLine(in)
}

func readTerminalPassword(fd int, prompt io.Writer) (string, error) {
	var entries [2]string
	for i, label := range []string{"Password: ", "Again: "} {
		fmt.Fprint(prompt, label)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		entries[i] = string(b)
	}
	if entries[0] != entries[1] {
		return "", errors.New("the passwords differ")
	}
	return checkPassword(entries[0])
}

// readPasswordLine reads one line, without its line ending, from a pipe or a file.
func readPasswordLine(in io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(in, maxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if err != nil && len(line) > maxPasswordBytes {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordBytes)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return checkPassword(line)
}

func checkPassword(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty password")
	case len(p) > maxPasswordBytes:
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordBytes)
	}
	return p, nil
}
