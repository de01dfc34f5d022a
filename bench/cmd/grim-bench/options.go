package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/grim-reaper/grim/bench/dataset"
)

// Sizes of the data set's first version.
const (
	// defaultSize keeps a whole run near five minutes on two cores, well under ten.
	defaultSize = "1GiB"
	// quickSize smoke-tests the benchmark itself in a minute or two.
	quickSize = "100MiB"
)

// Where the results go.
const (
	defaultOut = "bench/results/latest.json"
	quickOut   = "bench/results/quick.json" // so a smoke test leaves the real results alone
)

// options are the flags of grim-bench.
type options struct {
	size       string
	quick      bool
	seed       uint64
	binDir     string
	transport  string
	restic     string
	workDir    string
	out        string
	dropCaches bool
	keep       bool
}

func newRootCmd(getenv func(string) string) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:           "grim-bench",
		Short:         "Benchmark Grim Reaper against restic on a generated data set",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.resolve(cmd.Flags().Changed("quick"), getenv)
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

// bind defines the flags on f.
func (o *options) bind(f *pflag.FlagSet) {
	f.StringVar(&o.size, "size", "", "size of the data set, such as 768MiB or 1GiB "+
		"(default $BENCH_SIZE or "+defaultSize+")")
	f.BoolVar(&o.quick, "quick", false, "a "+quickSize+" data set, to check the benchmark "+
		"itself (default true when $BENCH_QUICK is 1)")
	f.Uint64Var(&o.seed, "seed", dataset.DefaultSeed, "seed of the data set")
	f.StringVar(&o.binDir, "bin-dir", "bin", "where grim-controller, grim-agent and grim are")
	f.StringVar(&o.transport, "transport", "auto", "the agent's transport: auto (QUIC), quic or tcp")
	f.StringVar(&o.restic, "restic", "restic", "restic executable; skipped when not found, "+
		"none to skip it")
	f.StringVar(&o.workDir, "work-dir", "", "where to make the temporary work directory "+
		"(default the system's)")
	f.StringVar(&o.out, "out", "", "results file (default "+defaultOut+", "+quickOut+
		" with --quick)")
	f.BoolVar(&o.dropCaches, "drop-caches", true, "drop the page cache before every phase "+
		"(needs root; otherwise every phase runs warm)")
	f.BoolVar(&o.keep, "keep", false, "keep the work directory, for looking into a failure")
}

// resolve fills what the flags left to the environment and to defaults; quickSet says
// whether --quick was given.
func (o *options) resolve(quickSet bool, getenv func(string) string) {
	if !quickSet && getenv("BENCH_QUICK") == "1" {
		o.quick = true
	}
	if o.size == "" {
		o.size = getenv("BENCH_SIZE")
	}
	switch {
	case o.size == "" && o.quick:
		o.size = quickSize
	case o.size == "":
		o.size = defaultSize
	}
	if o.out == "" {
		o.out = defaultOut
		if o.quick {
			o.out = quickOut
		}
	}
	if o.restic == "none" {
		o.restic = ""
	} else if path, err := exec.LookPath(o.restic); err == nil {
		o.restic = path
	} else {
		o.restic = ""
	}
}

// spec is the data set the options ask for.
func (o *options) spec() (dataset.Spec, error) {
	size, err := parseSize(o.size)
	if err != nil {
		return dataset.Spec{}, err
	}
	s := dataset.Spec{Seed: o.seed, Size: size}
	return s, s.Validate()
}

// units maps size suffixes to bytes: binary with an i or alone, decimal with a B alone.
var units = map[string]int64{
	"": 1, "b": 1,
	"k": dataset.KiB, "kib": dataset.KiB, "kb": 1e3,
	"m": dataset.MiB, "mib": dataset.MiB, "mb": 1e6,
	"g": dataset.GiB, "gib": dataset.GiB, "gb": 1e9,
}

// parseSize reads a size such as 768MiB, 1.5GiB, 600MB or 1048576.
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	mult, ok := units[unit]
	if !ok || num == "" {
		return 0, fmt.Errorf("size %q: want a number and KiB, MiB, GiB, KB, MB or GB", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, errors.Join(fmt.Errorf("size %q: not a positive number", s), err)
	}
	return int64(v * float64(mult)), nil
}
