package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/cli/internal/client"
	"github.com/grim-reaper/grim/internal/buildinfo"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	url     string
	keyFile string
	json    bool
	getenv  func(string) string
}

// client builds an API client from flags, then the environment.
func (g *globalOptions) client() (*client.Client, error) {
	url := g.url
	if url == "" {
		url = g.getenv("GRIM_URL")
	}
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	key := g.getenv("GRIM_API_KEY")
	file := g.keyFile
	if file == "" && key == "" {
		file = g.getenv("GRIM_API_KEY_FILE")
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read API key file: %w", err)
		}
		key = strings.TrimSpace(string(raw))
	}
	if key == "" {
		return nil, fmt.Errorf("no API key: set GRIM_API_KEY or GRIM_API_KEY_FILE")
	}
	return client.New(url, key), nil
}

// do sends one request with the client the flags and environment give, decoding the
// reply into out (see client.Client.Do).
func (g *globalOptions) do(ctx context.Context, method, path string, body, out any) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	return c.Do(ctx, method, path, body, out)
}

// decodeEach decodes every item of a list, kept raw for --json, to print it as a table;
// what names the items in errors.
func decodeEach[T any](list []json.RawMessage, what string) ([]T, error) {
	out := make([]T, len(list))
	for i, raw := range list {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s: %w", what, err)
		}
	}
	return out, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newRootCmd(getenv func(string) string) *cobra.Command {
	g := &globalOptions{getenv: getenv}
	root := &cobra.Command{
		Use:           "grim",
		Short:         "Command-line client of the Grim Reaper REST API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.url, "url", "", "controller URL (default $GRIM_URL or http://127.0.0.1:8080)")
	pf.StringVar(&g.keyFile, "api-key-file", "", "file holding the API key (default $GRIM_API_KEY_FILE)")
	pf.BoolVar(&g.json, "json", false, "print replies as JSON, for scripts")
	root.AddCommand(newStatusCmd(g), newKeysCmd(g), newAgentsCmd(g), newBackupCmd(g),
		newRestoreCmd(g), newPolicyCmd(g), newStorageCmd(g), newLicenseCmd(g), &cobra.Command{
			Use:   "version",
			Short: "Print the version and commit",
			Run: func(cmd *cobra.Command, _ []string) {
				fmt.Fprintln(cmd.OutOrStdout(), buildinfo.String("grim"))
			},
		})
	return root
}
