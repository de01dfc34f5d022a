package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/pkg/scythe"
)

// licenseError is a license key that is not valid; its exit code is 6.
type licenseError struct {
	reason string
}

func (e *licenseError) Error() string { return "license is not valid: " + e.reason }

func newLicenseCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "license", Short: "Verify and validate Scythe license keys"}
	cmd.AddCommand(newLicenseVerifyCmd(g), newLicenseValidateCmd(g), newLicensePublicKeyCmd(g))
	return cmd
}

// verifyOptions are the inputs of `grim license verify`.
type verifyOptions struct {
	publicKeyFile string
	productID     string
	key           string // "-" reads the key from stdin
	json          bool
	now           time.Time
}

// verifyResult is what `grim license verify --json` prints.
type verifyResult struct {
	Valid  bool           `json:"valid"`
	Reason string         `json:"reason,omitempty"`
	Claims *scythe.Claims `json:"claims,omitempty"`
}

func newLicenseVerifyCmd(g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify --public-key FILE KEY",
		Short: "Verify a license key offline, against the saved public keys",
		Long: "Verify a license key without the controller: its signature against the keys\n" +
			"in FILE (the saved reply of GET /api/licenses/public-key, or of\n" +
			"`grim license public-key`), then its product and expiry. KEY - reads stdin.\n" +
			"Revocation and seats need the controller: see `grim license validate`.\n" +
			"Exits 0 for a valid license and 6 for one that is not.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key, o.json, o.now = args[0], g.json, time.Now()
			return runVerify(o, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.publicKeyFile, "public-key", "", "file of public keys (required)")
	cmd.Flags().StringVar(&o.productID, "product", "", "the product the license must be for")
	_ = cmd.MarkFlagRequired("public-key")
	return cmd
}

// runVerify verifies o.key and prints the verdict. A license that is not
// valid returns a *licenseError after printing why.
func runVerify(o *verifyOptions, stdin io.Reader, out io.Writer) error {
	raw, err := os.ReadFile(o.publicKeyFile)
	if err != nil {
		return fmt.Errorf("read public keys: %w", err)
	}
	keys, err := scythe.ParseKeySet(raw)
	if err != nil {
		return fmt.Errorf("public keys %s: %w", o.publicKeyFile, err)
	}
	key := o.key
	if key == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, scythe.MaxKeyLen+1))
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		key = string(b)
	}
	claims, err := scythe.Verify(key, keys, scythe.Options{ProductID: o.productID, Now: o.now})
	res := verifyResult{Valid: err == nil, Reason: scythe.ReasonOf(err)}
	if err == nil || res.Reason == scythe.ReasonWrongProduct || res.Reason == scythe.ReasonExpired {
		res.Claims = &claims
	}
	if err := printVerdict(out, o.json, res); err != nil {
		return err
	}
	if !res.Valid {
		return &licenseError{reason: res.Reason}
	}
	return nil
}

func printVerdict(out io.Writer, asJSON bool, res verifyResult) error {
	if asJSON {
		return printJSON(out, res)
	}
	if !res.Valid {
		_, err := fmt.Fprintf(out, "invalid: %s\n", res.Reason)
		return err
	}
	c := res.Claims
	expires := "never"
	if t, ok := c.Expiry(); ok {
		expires = t.Format(time.RFC3339)
	}
	_, err := fmt.Fprintf(out, "valid: license %s for %s (%s), licensed to %s, "+
		"%d users, expires %s, features [%s]\n", c.LicenseID, c.ProductID, c.Type,
		licensee(c), c.MaxUsers, expires, strings.Join(c.Features, ", "))
	return err
}

func licensee(c *scythe.Claims) string {
	if c.Company == "" {
		return c.Customer
	}
	return c.Customer + ", " + c.Company
}

func newLicenseValidateCmd(g *globalOptions) *cobra.Command {
	var product, fingerprint string
	cmd := &cobra.Command{
		Use:   "validate KEY",
		Short: "Ask the controller whether a license key is valid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			body := map[string]any{"license_key": args[0]}
			if product != "" {
				body["product_id"] = product
			}
			if fingerprint != "" {
				body["machine_fingerprint"] = fingerprint
			}
			var reply struct {
				Valid   bool           `json:"valid"`
				Reason  string         `json:"reason,omitempty"`
				License map[string]any `json:"license"`
			}
			err = c.Do(cmd.Context(), "POST", "/api/licenses/validate", body, &reply)
			if err != nil {
				return err
			}
			if g.json {
				err = printJSON(cmd.OutOrStdout(), reply)
			} else if reply.Valid {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "valid: license %v\n", reply.License["id"])
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "invalid: %s\n", reply.Reason)
			}
			if err == nil && !reply.Valid {
				err = &licenseError{reason: reply.Reason}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&product, "product", "", "the product the license must be for")
	cmd.Flags().StringVar(&fingerprint, "fingerprint", "", "a machine that needs a seat")
	return cmd
}

func newLicensePublicKeyCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "public-key",
		Short: "Print the account's license verification keys, for `grim license verify`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var reply map[string]any
			err = c.Do(cmd.Context(), "GET", "/api/licenses/public-key", nil, &reply)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), reply)
		},
	}
}
