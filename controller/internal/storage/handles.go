package storage

import (
	"container/list"
	"os"
	"sync"
)

// handles keeps up to max open files for ReadAt, least recently used first out, so that the
// many reads of one pack during a restore do not each open and close it. A handle in use is
// closed only when its last user releases it, even when it was evicted meanwhile.
type handles struct {
	max int

	// mu guards byName, lru and the refs and gone fields of every handle.
	mu     sync.Mutex
	byName map[string]*list.Element
	lru    *list.List // of *handle, most recently used at the front
}

// handle is one open object file.
type handle struct {
	name string
	f    *os.File
	refs int  // users between acquire and release
	gone bool // evicted or forgotten: close when refs drop to zero
}

func newHandles(max int) *handles {
	return &handles{max: max, byName: make(map[string]*list.Element), lru: list.New()}
}

// acquire returns the open file of name, opening it with open when it is not cached. The
// caller must release it.
func (c *handles) acquire(name string, open func() (*os.File, error)) (*handle, error) {
	if h := c.lookup(name); h != nil {
		return h, nil
	}
	// Open outside the lock, so one slow open does not hold up reads of other objects.
	f, err := open()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byName[name]; ok {
		// Another reader cached it meanwhile: use theirs.
		_ = f.Close()
		h := el.Value.(*handle)
		h.refs++
		c.lru.MoveToFront(el)
		return h, nil
	}
	h := &handle{name: name, f: f, refs: 1}
	c.byName[name] = c.lru.PushFront(h)
	c.evictLocked()
	return h, nil
}

// lookup returns the cached handle of name, counted as in use, or nil.
func (c *handles) lookup(name string) *handle {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byName[name]
	if !ok {
		return nil
	}
	h := el.Value.(*handle)
	h.refs++
	c.lru.MoveToFront(el)
	return h
}

// release ends one use of h.
func (c *handles) release(h *handle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.gone && h.refs == 0 {
		_ = h.f.Close()
	}
}

// forget drops name from the cache, as when its object is replaced or deleted.
func (c *handles) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byName[name]; ok {
		c.dropLocked(el)
	}
}

// closeAll drops every handle; files in use close when released.
func (c *handles) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.dropLocked(c.lru.Back())
	}
}

// evictLocked drops the least recently used handles past max.
func (c *handles) evictLocked() {
	for c.lru.Len() > c.max {
		c.dropLocked(c.lru.Back())
	}
}

// dropLocked removes el from the cache and closes its file unless it is in use.
func (c *handles) dropLocked(el *list.Element) {
	h := c.lru.Remove(el).(*handle)
	delete(c.byName, h.name)
	h.gone = true
	if h.refs == 0 {
		_ = h.f.Close()
	}
}
