package jobs

import "sync"

// endSignal tells whoever waits that a job ended here. Waiters take the channel before
// they look at a job and wait on it after; fire closes it and puts a fresh one in its
// place, so an end that happens between the look and the wait is never missed.
type endSignal struct {
	mu sync.Mutex // guards ch
	ch chan struct{}
}

func newEndSignal() *endSignal { return &endSignal{ch: make(chan struct{})} }

// wait returns the channel the next fire closes.
func (s *endSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// fire wakes every waiter.
func (s *endSignal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// Ended returns a channel that is closed when the next job run by this controller has
// ended, its end recorded in the database. It lets a request waiting for a job answer as
// the job ends rather than at its next look; jobs that end elsewhere (another controller,
// a cancel before the job started) are still seen by looking.
func (r *Runner) Ended() <-chan struct{} { return r.ended.wait() }
