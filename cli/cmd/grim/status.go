package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

type statusReply struct {
	Status     string            `json:"status"`
	Version    string            `json:"version"`
	Components map[string]string `json:"components"`
	Metrics    map[string]any    `json:"metrics"`
}

func newStatusCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the controller's status and component health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st statusReply
			if err := g.do(cmd.Context(), "GET", "/api/status", nil, &st); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				return printJSON(out, st)
			}
			fmt.Fprintf(out, "status:  %s\nversion: %s\n", st.Status, st.Version)
			names := make([]string, 0, len(st.Components))
			for n := range st.Components {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(out, "  %-16s %s\n", n, st.Components[n])
			}
			if st.Status != "operational" {
				return fmt.Errorf("controller is %s", st.Status)
			}
			return nil
		},
	}
}
