package transport

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// TestAutoModeQUICAfterListenerReturns dials in auto mode while nothing listens and
// starts the listener during the QUIC attempt, as an agent reconnects across a
// controller's restart. QUIC resends its first packet about 0.2, 0.6, 1.4 and 3 s after
// the start, so a listener back at 1.8 s sees nothing before the 2.5 s timeout and TCP
// connects first; the connection must still come out over QUIC.
func TestAutoModeQUICAfterListenerReturns(t *testing.T) {
	p := newTestPKI(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	var (
		mu       sync.Mutex // guards accepted
		accepted []Conn
		wg       sync.WaitGroup
	)
	ready := make(chan *Listener, 1)
	wg.Go(func() {
		time.Sleep(1800 * time.Millisecond)
		ln, err := Listen(addr, p.server, DefaultListenOptions())
		ready <- ln
		if err != nil {
			t.Errorf("listen: %v", err)
			return
		}
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		if ln := <-ready; ln != nil {
			_ = ln.Close()
		}
		wg.Wait()
		for _, c := range accepted {
			_ = c.Close()
		}
	})

	c, err := Dial(testContext(t), addr, p.client, ModeAuto,
		DialOptions{QUICTimeout: 2500 * time.Millisecond})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, string(ModeQUIC), c.Transport())
}
