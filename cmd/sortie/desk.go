package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/desk"
	"sortie.dev/sortie/internal/desk/intake"
	"sortie.dev/sortie/internal/store"
)

func deskCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "desk",
		Short: "The abuse desk: complaint mail stored, parsed, triaged and counted",
		Long: "The abuse desk keeps complaint mail in its store (SQLite in the data directory, or\n" +
			"PostgreSQL with desk.database) and files it into cases. See docs/desk.md.",
	}
	cmd.PersistentFlags().StringVarP(&path, "config", "c", "", "YAML configuration file (default: the embedded one)")
	cmd.AddCommand(deskServeCmd(&path), deskImportCmd(&path), deskStatsCmd(&path), deskListCmd(&path),
		deskShowCmd(&path), deskLearnCmd(&path), deskPurgeCmd(&path), deskRetryCmd(&path))
	return cmd
}

// openDesk loads the configuration and opens the desk over its store. The caller closes
// the store.
func openDesk(ctx context.Context, path string, log *slog.Logger) (*desk.Desk, error) {
	cfg, err := loadConfig(path, log)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return openDeskWith(ctx, cfg, log)
}

// openDeskWith opens the desk of a loaded configuration.
func openDeskWith(ctx context.Context, cfg *config.Config, log *slog.Logger) (*desk.Desk, error) {
	st, err := desk.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d, err := desk.New(cfg, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// withDesk runs fn with an open desk until SIGINT or SIGTERM.
func withDesk(path *string, fn func(ctx context.Context, d *desk.Desk, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		log := stderrLogger(slog.LevelInfo)
		d, err := openDesk(ctx, *path, log)
		if err != nil {
			return err
		}
		defer d.Store().Close()
		return fn(ctx, d, cmd.OutOrStdout())
	}
}

func deskServeCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the desk alone: its intake paths, processing and the retention purge",
		Long: "Run the abuse desk without the gateway (for example on a machine other than the\n" +
			"exit): the Maildir watcher, IMAP polling and SMTP listener the configuration names,\n" +
			"the processing of stored mail and the daily retention purge. desk.enabled is not\n" +
			"needed. Stops on SIGINT or SIGTERM.",
		Args: cobra.NoArgs,
		RunE: withDesk(path, func(ctx context.Context, d *desk.Desk, _ io.Writer) error {
			return d.Run(ctx)
		}),
	}
}

func deskImportCmd(path *string) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import complaint mail from Maildirs, mbox files and .eml files",
		Long: "Store every mail of each PATH (a Maildir, an mbox file or a single message), then\n" +
			"process what is new. Importing the same mail again creates nothing new. Files are\n" +
			"only read, never moved or changed. Exit code 1 when a mail could not be imported.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
				return runImport(ctx, d, args, quiet, out)
			})(cmd, args)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func runImport(ctx context.Context, d *desk.Desk, paths []string, quiet bool, out io.Writer) error {
	var total intake.Summary
	for _, p := range paths {
		var bar *progressbar.ProgressBar
		opts := intake.ImportOptions{MaxMessageBytes: int64(d.Config().Desk.MaxMessageBytes)}
		if !quiet && term.IsTerminal(int(os.Stderr.Fd())) {
			bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(p), progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			opts.Progress = func(done, all int) {
				if all > 0 && bar.GetMax() != all {
					bar.ChangeMax(all)
				}
				bar.Set(done)
			}
		}
		sum, err := intake.Import(ctx, p, d, opts)
		if bar != nil {
			bar.Finish()
		}
		total.Imported += sum.Imported
		total.Repeats += sum.Repeats
		total.Known += sum.Known
		total.Failed = append(total.Failed, sum.Failed...)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", p, err)
			total.Failed = append(total.Failed, intake.Failure{Where: p, Reason: err.Error()})
		}
	}
	processed, perr := d.ProcessPending(ctx)
	fmt.Fprintf(out, "imported %d, repeats %d, already imported %d, failed %d; processed %d\n",
		total.Imported, total.Repeats, total.Known, len(total.Failed), processed)
	for _, f := range total.Failed {
		fmt.Fprintf(out, "  failed: %s: %s\n", f.Where, f.Reason)
	}
	if perr != nil {
		return perr
	}
	if len(total.Failed) > 0 {
		return &exitError{code: 1, err: errors.New("")}
	}
	return nil
}

func deskStatsCmd(path *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the desk's counts: intake by source and month, triage by category, month and outcome",
		Args:  cobra.NoArgs,
		RunE: withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
			st, err := d.Store().Stats(ctx)
			if err != nil {
				return err
			}
			return printAs(out, asJSON, st, printStats)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printAs prints v as indented JSON, or with the text printer.
func printAs[T any](out io.Writer, asJSON bool, v T, text func(io.Writer, T)) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(out, v)
	return nil
}

func printStats(out io.Writer, st store.Stats) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MONTH\tSOURCE\tMESSAGES\tREPEATS")
	for _, c := range st.Intake {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", c.Month, c.Source, c.Messages, c.Repeats)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nprocessed %d, waiting %d, failed %d\n", st.Processed, st.Waiting, st.Failed)
	if len(st.Triage) > 0 {
		fmt.Fprintln(out)
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MONTH\tCATEGORY\tOUTCOME\tMESSAGES")
		for _, c := range st.Triage {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.Month, c.Category, c.Outcome, c.Messages)
		}
		tw.Flush()
	}
	if len(st.Cases) > 0 {
		fmt.Fprint(out, "\ncases:")
		for _, s := range store.States {
			if n := st.Cases[s]; n > 0 {
				fmt.Fprintf(out, " %s %d", s, n)
			}
		}
		fmt.Fprintln(out)
	}
}

func deskListCmd(path *string) *cobra.Command {
	var f store.CaseFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, newest first",
		Args:  cobra.NoArgs,
		RunE: withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
			if f.State != "" && !store.ValidState(f.State) {
				return &exitError{code: 2, err: fmt.Errorf("--state: want one of %s", strings.Join(store.States, ", "))}
			}
			if f.Category != "" && !validCategory(f.Category) {
				return &exitError{code: 2, err: fmt.Errorf("--category: want one of %s", strings.Join(config.DeskCategories, ", "))}
			}
			if f.Month != "" {
				if _, err := time.Parse("2006-01", f.Month); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--month: want YYYY-MM, got %q", f.Month)}
				}
			}
			cases, err := d.Store().ListCases(ctx, f)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tCATEGORY\tOUR ADDRESS\tCOMPLAINANT\tREPORTS\tUPDATED")
			for _, c := range cases {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, c.State, c.Category, dash(c.OurAddress),
					dash(c.Complainant), c.Reports, c.Updated.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&f.State, "state", "", "only cases in this state ("+strings.Join(store.States, ", ")+")")
	cmd.Flags().StringVar(&f.Category, "category", "", "only cases of this category")
	cmd.Flags().StringVar(&f.Month, "month", "", "only cases opened in this month, YYYY-MM")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "most cases listed")
	return cmd
}

func validCategory(c string) bool {
	for _, v := range config.DeskCategories {
		if v == c {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func caseArg(args []string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &exitError{code: 2, err: fmt.Errorf("want a case number such as 42, got %q", args[0])}
	}
	return id, nil
}

func deskShowCmd(path *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CASE",
		Short: "Show a case: its messages, the facts extracted and why each was triaged so",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := caseArg(args)
			if err != nil {
				return err
			}
			return withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
				c, err := d.Store().Case(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					return &exitError{code: 1, err: err}
				}
				if err != nil {
					return err
				}
				return printAs(out, asJSON, c, printCase)
			})(cmd, args)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printCase(out io.Writer, c store.CaseDetail) {
	fmt.Fprintf(out, "case %d: %s, %s\n", c.ID, c.State, c.Category)
	if c.Resolution != "" {
		fmt.Fprintf(out, "  resolution:  %s\n", c.Resolution)
	}
	fmt.Fprintf(out, "  our address: %s\n  complainant: %s\n", dash(c.OurAddress), dash(c.Complainant))
	if c.ExternalID != "" {
		fmt.Fprintf(out, "  their case:  %s\n", c.ExternalID)
	}
	fmt.Fprintf(out, "  opened %s, updated %s, %d reports\n", c.Opened.Format(time.DateTime), c.Updated.Format(time.DateTime), c.Reports)
	for _, m := range c.Messages {
		fmt.Fprintf(out, "\nmessage %d (%s, %d bytes, received %s", m.ID, m.Source, m.Size, m.Received.Format(time.DateTime))
		if m.Repeats > 0 {
			fmt.Fprintf(out, ", %d repeats", m.Repeats)
		}
		if m.Purged {
			fmt.Fprint(out, ", purged")
		}
		fmt.Fprintln(out, ")")
		if m.From != "" || m.Subject != "" {
			fmt.Fprintf(out, "  from:    %s\n  subject: %s\n", dash(m.From), dash(m.Subject))
		}
		fmt.Fprintf(out, "  triage:  %s, %s", m.Outcome, m.Category)
		if m.HasScore {
			fmt.Fprintf(out, ", spam score %.3f", m.SpamScore)
		}
		fmt.Fprintln(out)
		for _, r := range m.Reasons {
			fmt.Fprintf(out, "    - %s\n", r)
		}
		for _, r := range m.Reports {
			fmt.Fprintf(out, "  report:  %s\n", r)
		}
	}
}

func deskLearnCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "learn CASE spam|ham",
		Short: "Teach the spam filter that a case's mail is spam, or is not",
		Long: "Learn every message of the case as spam or as ham (not spam). Learning is\n" +
			"idempotent per message; learning a message as the other class unlearns the first.\n" +
			"spam moves the case to the spam state; ham takes a spam case back to new.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := caseArg(args)
			if err != nil {
				return err
			}
			class := args[1]
			if class != store.ClassSpam && class != store.ClassHam {
				return &exitError{code: 2, err: fmt.Errorf("want spam or ham, got %q", class)}
			}
			return withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
				n, err := d.Learn(ctx, id, class)
				if errors.Is(err, store.ErrNotFound) {
					return &exitError{code: 1, err: err}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "case %d: %d message(s) learned as %s\n", id, n, class)
				return nil
			})(cmd, args)
		},
	}
}

func deskPurgeCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "purge",
		Short: "Remove raw mail and personal fields older than desk.retention now (serve does it daily)",
		Args:  cobra.NoArgs,
		RunE: withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
			p, err := d.Purge(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "purged %d message(s), %d case(s)\n", p.Messages, p.Cases)
			return nil
		}),
	}
}

func deskRetryCmd(path *string) *cobra.Command {
	return &cobra.Command{
		Use:   "retry",
		Short: "Process again the messages set aside as failed",
		Args:  cobra.NoArgs,
		RunE: withDesk(path, func(ctx context.Context, d *desk.Desk, out io.Writer) error {
			n, err := d.Store().Retry(ctx)
			if err != nil {
				return err
			}
			processed, err := d.ProcessPending(ctx)
			fmt.Fprintf(out, "queued %d, processed %d\n", n, processed)
			return err
		}),
	}
}
