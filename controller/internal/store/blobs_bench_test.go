package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// BenchmarkMissingAllPresent asks about every blob of an account of 25,600 indexed
// blobs, 256 ids a question, as an unchanged re-backup of a host with about as many files
// does: from one goroutine, and from eight at once as the agent's file workers ask (each
// question then runs on a connection of its own). Reported per id, in wall and CPU time
// (the machine may be shared).
func BenchmarkMissingAllPresent(b *testing.B) {
	const indexed, perPack, batch = 25_600, 256, 256
	ctx := context.Background()
	s := storetest.Open(b)
	a := &store.Account{Email: "bench@example.com", Name: "bench"}
	require.NoError(b, s.Accounts().Create(ctx, a))
	ids := randomIDs(b, indexed)
	for p := 0; p < indexed; p += perPack {
		commit(b, s, a.ID, fmt.Sprint("pack ", p), ids[p:p+perPack])
	}
	for _, askers := range []int{1, 8} {
		b.Run(fmt.Sprintf("askers=%d", askers), func(b *testing.B) {
			cpu := processCPU()
			for b.Loop() {
				var wg sync.WaitGroup
				for k := range askers {
					wg.Go(func() {
						for start := k * batch; start < indexed; start += askers * batch {
							part := ids[start:min(start+batch, indexed)]
							missing, err := s.Blobs().Missing(ctx, a.ID, part)
							if err != nil || missing[0] {
								b.Errorf("missing: %v %v", missing, err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			n := float64(b.N * indexed)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/id")
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/n, "cpu-ns/id")
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
