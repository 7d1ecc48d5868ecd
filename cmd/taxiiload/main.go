// Command taxiiload drives a TAXII 2.1 server with load and reports what
// it measured, as pgbench does for PostgreSQL: ingest (POST envelopes of
// synthetic indicators), poll (page through a collection with next), get
// (single objects by id) and mixed (one ingesting client, the rest reading).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "taxiiload:", err)
		os.Exit(1)
	}
}

// run executes one load run as the command line args say.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	report, err := opts.load(ctx)
	if err != nil {
		return err
	}
	return report.print(stdout, opts.json)
}
