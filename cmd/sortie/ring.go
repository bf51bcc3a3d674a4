package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"sortie.dev/sortie/internal/admin"
)

func ringCmd() *cobra.Command {
	var path, socket string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ring",
		Short: "Print the RAM ring log of a running `sortie serve` (from its admin socket)",
		Long: "Print the operational events the running gateway holds in RAM, oldest first. Events\n" +
			"leave the ring after log.ring_ttl; nothing in it is ever written to disk. The admin\n" +
			"socket is admin.socket from --config, else admin.sock in the data directory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" {
				cfg, err := loadConfig(path, slog.New(slog.NewTextHandler(os.Stderr, nil)))
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				if socket, err = cfg.AdminSocket(); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return admin.FetchRing(ctx, socket, asJSON, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "the configuration file of the running gateway")
	cmd.Flags().StringVar(&socket, "socket", "", "admin socket path (overrides the configuration)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as a JSON array")
	return cmd
}
