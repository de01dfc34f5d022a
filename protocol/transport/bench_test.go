package transport

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkBulk sends 64 MiB from the listener's side to the dialer's over each transport,
// on one stream and spread over eight, in writes of 1 MiB as a restore's blobs go out, and
// reports the throughput and the CPU time of the process (both ends) per MiB: on loopback
// the transport's cost per byte is what bounds a restore.
func BenchmarkBulk(b *testing.B) {
	const total, write = 64 << 20, 1 << 20
	p := newTestPKI(b)
	ln := startListener(b, p.server, DefaultListenOptions())
	data := randomBytes(write, 1)
	for _, mode := range modes {
		for _, streams := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/streams=%d", mode, streams), func(b *testing.B) {
				client, server := connect(b, ln, mode, p.client)
				b.SetBytes(total)
				cpu := processCPU()
				for b.Loop() {
					if err := bulk(client, server, streams, total/streams, data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((processCPU()-cpu).Microseconds())/
					float64(b.N*(total>>20)), "cpu-us/MiB")
			})
		}
	}
}

// bulk has the dialer open streams and the listener write n bytes on each, which the
// dialer reads to the end.
func bulk(client, server Conn, streams, n int, data []byte) error {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*streams)
	for range streams {
		s, err := client.OpenStream(ctx)
		if err != nil {
			return err
		}
		if _, err := s.Write([]byte{1}); err != nil { // a QUIC peer sees a stream once it has data
			return err
		}
		peer, err := server.AcceptStream(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() {
			var one [1]byte
			if _, err := io.ReadFull(peer, one[:]); err != nil {
				errs <- err
				return
			}
			for sent := 0; sent < n; sent += len(data) {
				if _, err := peer.Write(data[:min(len(data), n-sent)]); err != nil {
					errs <- err
					return
				}
			}
			errs <- peer.Close()
		})
		wg.Go(func() {
			got, err := io.Copy(io.Discard, s)
			if err == nil && got != int64(n) {
				err = fmt.Errorf("read %d bytes of %d", got, n)
			}
			_ = s.Close()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
