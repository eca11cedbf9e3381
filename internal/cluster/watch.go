package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A watch follows one key of the owners bucket and closes gone once the
// key no longer names the owner it was started for. The instances that
// attach clients to a room watch its owner, and an owner watches the
// instances of its remote members; a watch is shared by everyone on this
// instance who asks for the same key and owner.
//
// A key deleted or taken over shows up on the bucket's watcher at once.
// A key that expired does not (NATS 2.9 writes no marker when a TTL
// removes a value), so the watch also expects the owner's renewals: when
// none came for a TTL, it reads the key, and an unchanged revision means
// the owner stopped renewing, which is when the owner itself gives up.
type watch struct {
	gone   chan struct{}
	cancel context.CancelFunc
	users  int
}

// Watch returns a channel closed when key ("room:/chat/lobby") no longer
// names owner: released, expired, or claimed by another instance. Call
// stop when no longer interested.
func (c *Cluster) Watch(key, owner string) (gone <-chan struct{}, stop func(), err error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, nil, err
	}
	id := k.kvKey() + " " + owner
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	w := c.watches[id]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &watch{gone: make(chan struct{}), cancel: cancel}
		c.watches[id] = w
		go c.follow(ctx, k.kvKey(), owner, w.gone)
	}
	w.users++
	var once sync.Once
	return w.gone, func() { once.Do(func() { c.unwatch(id, w) }) }, nil
}

func (c *Cluster) unwatch(id string, w *watch) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if w.users--; w.users == 0 {
		w.cancel()
		if c.watches[id] == w {
			delete(c.watches, id)
		}
	}
}

// follow closes gone when kvKey stops naming owner (see watch). It runs
// until then or until ctx ends.
func (c *Cluster) follow(ctx context.Context, kvKey, owner string, gone chan struct{}) {
	defer c.forgetGone(kvKey, owner, gone)
	w, err := c.kv.Watch(ctx, kvKey)
	if err != nil {
		c.log.Warn("cannot watch an owner; taking it as gone", "key", kvKey, "err", err)
		return
	}
	defer w.Stop()
	patience := c.ttl + c.ttl/10 // a renewal's travel time on top of the TTL
	timer := time.NewTimer(patience)
	defer timer.Stop()
	var revision uint64
	lastSeen := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // the current values have been sent
				if revision == 0 {
					return // no such key
				}
				continue
			}
			if e.Operation() != jetstream.KeyValuePut || decodeOwner(e.Value()) != owner {
				return
			}
			revision, lastSeen = e.Revision(), time.Now()
			timer.Reset(patience)
		case <-timer.C:
			rev, alive := c.checkOwner(kvKey, owner, revision, lastSeen)
			if !alive {
				return
			}
			if rev != revision {
				revision, lastSeen = rev, time.Now()
			}
			timer.Reset(c.ttl / 3)
		}
	}
}

// checkOwner reads kvKey when no renewal came for a TTL: the owner is
// alive if the key names it at a newer revision. If NATS cannot be asked,
// the owner is given the benefit of the doubt for one more TTL (a NATS
// restart should not close every room).
func (c *Cluster) checkOwner(kvKey, owner string, revision uint64, lastSeen time.Time) (uint64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), c.ttl/3)
	defer cancel()
	e, err := c.kv.Get(ctx, kvKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return 0, false
	case err != nil:
		return revision, time.Since(lastSeen) < 2*c.ttl
	case decodeOwner(e.Value()) != owner:
		return 0, false
	case e.Revision() == revision:
		return revision, false // not renewed for a TTL: its owner has given up
	}
	return e.Revision(), true
}

// forgetGone closes gone and drops the watch, so that a later Watch of
// the same key and owner starts afresh (and finds it gone at once).
func (c *Cluster) forgetGone(kvKey, owner string, gone chan struct{}) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	id := kvKey + " " + owner
	if w := c.watches[id]; w != nil && w.gone == gone {
		delete(c.watches, id)
	}
	close(gone)
}
