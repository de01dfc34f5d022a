package config

import (
	"fmt"

	"github.com/spf13/pflag"
)

// AddFlag adds --config, the settings file, to flags with def as its default path.
func AddFlag(flags *pflag.FlagSet, def string) {
	flags.String(FlagName, def, "settings file (YAML, keys are flag names); missing is fine "+
		"unless named")
}

// Load fills the flags not given on the command line from the environment (prefix and
// the flag's name) and from the file --config names. The file may be missing only when
// neither --config nor its environment variable named it.
func Load(flags *pflag.FlagSet, prefix string, getenv func(string) string) error {
	f := flags.Lookup(FlagName)
	if f == nil {
		return fmt.Errorf("config: no --%s flag", FlagName)
	}
	file, required := f.Value.String(), f.Changed
	if v := getenv(EnvName(prefix, FlagName)); v != "" && !f.Changed {
		file, required = v, true
	}
	return Apply(flags, Source{File: file, Required: required, EnvPrefix: prefix, Getenv: getenv})
}
