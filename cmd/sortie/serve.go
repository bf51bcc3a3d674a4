package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/daemon"
)

func serveCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (on the embedded default config unless --config is given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := new(slog.LevelVar)
			log := stderrLogger(level)
			cfg, err := loadConfig(path, log)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			level.Set(cfg.Log.SlogLevel())
			return serve(cfg, path, log)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "YAML configuration file (starts with `version: 1`)")
	return cmd
}

// loadConfig reads the file at path, or the embedded default when path is empty, and logs
// its warnings.
func loadConfig(path string, log *slog.Logger) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	cfg, warnings, err := config.Load(path)
	for _, w := range warnings {
		log.Warn(w)
	}
	return cfg, err
}

// stderrLogger returns the logger for stderr: start, stop, reload, configuration errors and
// internal failures, never anything about a user. The daemon adds the RAM ring log to it.
func stderrLogger(level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func serve(cfg *config.Config, path string, log *slog.Logger) error {
	daemon.Harden(log)
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	log = d.Logger() // stderr and the ring log
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(hup, path, d, log)
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	defer signal.Stop(usr2)
	go upgradeOnSignal(usr2, d, stop, log)
	if !cfg.Desk.Enabled {
		return d.Run(ctx)
	}
	// The desk runs beside the gateway, never inside it: the data plane does not import it.
	dk, err := openDeskWith(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer dk.Store().Close()
	deskDone := make(chan struct{})
	go func() {
		defer close(deskDone)
		// A desk that fails (its Maildir gone, its SMTP address taken) must not take the
		// exit down with it: the gateway goes on, and the failure is logged loudly.
		if err := dk.Run(ctx); err != nil {
			log.Error("the abuse desk stopped; the gateway goes on serving", "error", err)
		}
	}()
	err = d.Run(ctx)
	stop()
	<-deskDone
	return err
}

// upgradeOnSignal hands the listening sockets to a new process on SIGUSR2 and, once it
// serves, stops this one, which drains its tunnels.
func upgradeOnSignal(usr2 <-chan os.Signal, d *daemon.Daemon, stop func(), log *slog.Logger) {
	for range usr2 {
		if err := d.Upgrade(); err != nil {
			log.Error("upgrade failed; this process goes on serving", "error", err)
			continue
		}
		stop()
		return
	}
}

// reloadOnHangup re-reads the configuration file on every SIGHUP and applies it; a broken
// file leaves the configuration in force and the reason is logged.
func reloadOnHangup(hup <-chan os.Signal, path string, d *daemon.Daemon, log *slog.Logger) {
	for range hup {
		if path == "" {
			log.Warn("SIGHUP: running on the embedded default configuration; nothing to reload")
			continue
		}
		cfg, err := loadConfig(path, log)
		if err == nil {
			err = d.Reload(cfg)
		}
		if err != nil {
			log.Error("reload failed; the configuration in force is unchanged", "error", err)
		}
	}
}
