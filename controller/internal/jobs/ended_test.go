package jobs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEndSignalWakesEveryWaiterOnce(t *testing.T) {
	s := newEndSignal()
	first, second := s.wait(), s.wait()
	assert.False(t, closed(first), "open before any end")

	s.fire()
	assert.True(t, closed(first))
	assert.True(t, closed(second))

	next := s.wait()
	assert.False(t, closed(next), "a waiter after the end waits for the next one")
	s.fire()
	assert.True(t, closed(next))
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
