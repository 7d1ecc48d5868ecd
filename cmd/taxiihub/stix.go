package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/stix"
)

func stixCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stix", Short: "Work with STIX 2.1 content offline"}
	var refuseCustom bool
	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check bundles (or envelopes) against STIX 2.1 as the hub would, one line per problem",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			refused := 0
			for _, file := range files {
				n, err := validateFile(cmd.OutOrStdout(), file, stix.Options{RefuseCustom: refuseCustom})
				if err != nil {
					return err
				}
				refused += n
			}
			if refused > 0 {
				return fmt.Errorf("%d objects would be refused", refused)
			}
			return nil
		},
	}
	validate.Flags().BoolVar(&refuseCustom, "refuse-custom", false, "refuse custom object types and properties, as a collection with allow_custom: false does")
	cmd.AddCommand(validate)
	return cmd
}

// validateFile prints "file: object: property: message" for every problem of
// every object in a bundle file and returns how many objects are refused.
func validateFile(w io.Writer, file string, opts stix.Options) (int, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	checked, err := stix.CheckEnvelope(body, opts, nil)
	if errors.Is(err, stix.ErrNoObjects) {
		return 0, fmt.Errorf("%s: %w (a bundle or envelope)", file, err)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	refused := 0
	for _, c := range checked {
		name := c.Meta.ID
		if name == "" {
			name = fmt.Sprintf("objects[%d]", c.Index)
		}
		for _, p := range c.Problems {
			prefix := ""
			if p.Warning {
				prefix = "warning: "
			}
			fmt.Fprintf(w, "%s: %s: %s%s\n", file, name, prefix, p)
		}
		if c.Refused() {
			refused++
		}
	}
	return refused, nil
}
