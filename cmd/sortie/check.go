package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

func checkCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a configuration and print the effective configuration",
		Long: "Validate a configuration file (or the embedded default when --config is not given), " +
			"report every problem with its line, and print the effective configuration with " +
			"secrets redacted. Exits 0 when valid, 2 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			cfg, err := loadConfig(path, log)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out, err := cfg.Marshal()
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "YAML configuration file to check")
	return cmd
}
