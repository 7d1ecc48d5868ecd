// Command taxiihub is the hub's one binary: it serves TAXII 2.1 (serve, or
// a ready-made demo), issues tokens and API keys, checks configs and STIX
// files, verifies and exports the audit log, and takes backups. main only
// parses the command line and calls run; each command lives in its file.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "taxiihub:", err)
		os.Exit(1)
	}
}

// newLogger logs text to a terminal, line by line, and JSON elsewhere, its
// lines at Info held for up to logFlushEvery and written together (see
// lineBuffer). flush writes out what is held; call it when done logging.
func newLogger(w io.Writer) (log *slog.Logger, flush func()) {
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, nil)), func() {}
	}
	lines := newLineBuffer(w)
	return slog.New(flushOnWarn{slog.NewJSONHandler(lines, nil), lines}), lines.Flush
}

// run executes the command line args; it returns when the command is done
// or ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "taxiihub",
		Short:         "A TAXII 2.1 hub for sharing STIX 2.1 threat intelligence between organizations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), demoCommand(), configCommand(), tokenCommand(), apikeyCommand(), auditCommand(), backupCommand(), healthCommand(), stixCommand(), pullCommand(), pushCommand())
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}
