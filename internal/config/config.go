// Package config fills a cobra command's flags from a YAML file and the environment, so
// that each program has one set of settings with one precedence: the defaults in code,
// then the file, then environment variables, then flags given on the command line.
//
// The file's keys are the flag names (`state-dir: /var/lib/grim-agent`); a list value
// fills a list flag. The environment variable of a flag is the program's prefix and the
// flag's name in upper case with dashes as underscores: GRIM_AGENT_STATE_DIR for the
// agent's --state-dir. A key that names no flag is an error, so a typo does not pass
// silently.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// FlagName is the flag that names the config file; it is never read from the file itself.
const FlagName = "config"

// Source says where the settings come from.
type Source struct {
	// File is the YAML file to read. A missing file is an error only when Required.
	File     string
	Required bool
	// EnvPrefix is put before each flag's environment name, e.g. "GRIM_AGENT_".
	EnvPrefix string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// EnvName returns the environment variable that sets the flag named name.
func EnvName(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Apply sets every flag of fs not given on the command line from the environment or,
// failing that, from the file. It returns the first value a flag refuses, naming its
// origin.
func Apply(flags *pflag.FlagSet, src Source) error {
	getenv := src.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	values, err := readFile(src.File, src.Required)
	if err != nil {
		return err
	}
	if err := checkKeys(flags, values, src.File); err != nil {
		return err
	}
	var firstErr error
	flags.VisitAll(func(f *pflag.Flag) {
		if firstErr != nil || f.Changed || f.Name == FlagName {
			return
		}
		env := EnvName(src.EnvPrefix, f.Name)
		if v := getenv(env); v != "" {
			firstErr = set(f, []string{v}, "environment variable "+env)
			return
		}
		if v, ok := values[f.Name]; ok {
			firstErr = set(f, v, fmt.Sprintf("%s: key %q", src.File, f.Name))
		}
	})
	return firstErr
}

// readFile returns the file's settings as strings per key; a list keeps its items apart.
func readFile(path string, required bool) (map[string][]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		if v == nil {
			continue // `key:` with no value leaves the default
		}
		items, err := scalarList(v)
		if err != nil {
			return nil, fmt.Errorf("config %s: key %q: %w", path, k, err)
		}
		out[k] = items
	}
	return out, nil
}

// scalarList turns a YAML scalar or list of scalars into flag values.
func scalarList(v any) ([]string, error) {
	switch t := v.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, item := range t {
			if _, nested := item.([]any); nested {
				return nil, errors.New("nested lists are not settings")
			}
			if _, nested := item.(map[string]any); nested {
				return nil, errors.New("maps are not settings")
			}
			out = append(out, fmt.Sprint(item))
		}
		return out, nil
	case map[string]any:
		return nil, errors.New("maps are not settings")
	default:
		return []string{fmt.Sprint(t)}, nil
	}
}

func checkKeys(flags *pflag.FlagSet, values map[string][]string, file string) error {
	var unknown []string
	for k := range values {
		if k == FlagName || flags.Lookup(k) == nil {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("config %s: unknown settings: %s", file, strings.Join(unknown, ", "))
}

// set gives the flag its value from origin; a list flag takes every item, another flag
// exactly one.
func set(f *pflag.Flag, items []string, origin string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var all []string
		for _, it := range items {
			all = append(all, strings.Split(it, ",")...)
		}
		if err := sv.Replace(all); err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		return nil
	}
	if len(items) != 1 {
		return fmt.Errorf("%s: want one value, got %d", origin, len(items))
	}
	if err := f.Value.Set(items[0]); err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	return nil
}
