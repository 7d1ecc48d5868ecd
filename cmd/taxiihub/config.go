package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/config"
)

func configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with the hub's config file"}
	var configPath string
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate a config file without serving",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			if _, err := checkFiles(cfg); err != nil { // what serve loads: keys, certificates, CAs
				return fmt.Errorf("%s: %w", configPath, err)
			}
			collections := 0
			for _, root := range cfg.APIRoots {
				collections += len(root.Collections)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d API roots, %d collections)\n", configPath, len(cfg.APIRoots), collections)
			return nil
		},
	}
	check.Flags().StringVar(&configPath, "config", "hub.yaml", "path of the config file to check")
	cmd.AddCommand(check)
	return cmd
}
