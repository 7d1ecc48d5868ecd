// Command gen writes the demo's election-threat dataset (dataset.Election2020)
// to the file it is given: go generate ./internal/dataset.
package main

import (
	"fmt"
	"os"

	"github.com/taxiihub/taxiihub/internal/dataset"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen FILE")
		os.Exit(2)
	}
	data, err := dataset.Election2020()
	if err == nil {
		err = os.WriteFile(os.Args[1], data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
