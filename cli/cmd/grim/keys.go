package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

type apiKey struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  *string  `json:"expires_at"`
	LastUsedAt *string  `json:"last_used_at"`
}

func newKeysCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and delete API keys"}
	cmd.AddCommand(newKeysCreateCmd(g), newKeysListCmd(g), newKeysDeleteCmd(g))
	return cmd
}

func newKeysCreateCmd(g *globalOptions) *cobra.Command {
	var scopes []string
	var expires string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key; its secret is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"name": args[0]}
			if len(scopes) > 0 {
				body["scopes"] = scopes
			}
			if expires != "" {
				body["expires_at"] = expires
			}
			var reply struct {
				APIKey apiKey `json:"api_key"`
				Key    string `json:"key"`
			}
			if err := g.do(cmd.Context(), "POST", "/api/keys", body, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created key %s (%s)\n%s\n", reply.APIKey.ID,
				reply.APIKey.Name, reply.Key)
			fmt.Fprintln(cmd.ErrOrStderr(), "store the key now: it is not shown again")
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "full or read")
	cmd.Flags().StringVar(&expires, "expires-at", "", "expiry, RFC 3339")
	return cmd
}

func newKeysListCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List API keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reply struct {
				Keys  []apiKey `json:"keys"`
				Total int      `json:"total"`
			}
			if err := g.do(cmd.Context(), "GET", "/api/keys?limit=100", nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tLAST USED")
			for _, k := range reply.Keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.CreatedAt,
					orDash(k.LastUsedAt))
			}
			return tw.Flush()
		},
	}
}

func newKeysDeleteCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Revoke an API key at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/keys/" + url.PathEscape(args[0])
			if err := g.do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted key %s\n", args[0])
			return nil
		},
	}
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}
