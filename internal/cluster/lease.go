package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ownerValue is the value of a key in the owners bucket, as JSON:
// {"instance":"<InstanceID>","key":"room:/chat/lobby"}.
type ownerValue struct {
	Instance string `json:"instance"`
	Key      string `json:"key"`
}

func decodeOwner(b []byte) string {
	var v ownerValue
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.Instance
}

// ErrLeaseLost is why a lease ends that was not released: it could not be
// renewed within the TTL, or another instance holds the key now.
var ErrLeaseLost = errors.New("cluster: lease lost")

// A Lease is this instance's ownership of a room: while it holds, no other
// instance runs the room's program. It renews itself every third of the
// TTL; when it cannot for a whole TTL (NATS unreachable) or the key names
// another owner, it is lost: Lost is closed, and the caller must stop the
// program, since another instance may start it now.
type Lease struct {
	c     *Cluster
	key   roomKey
	value []byte

	mu       sync.Mutex
	revision uint64 // of our last write of the key
	err      error  // why it was lost

	lost       chan struct{}
	stop       chan struct{}
	done       chan struct{}
	stopOnce   sync.Once
	releaseErr error
}

// Claim makes this instance the owner of key ("room:/chat/lobby",
// "resume:<hash>") if no live instance is: it creates the key in the
// owners bucket, which succeeds for one claimant only. It returns the
// lease when it won, else nil and the owner's InstanceID. An owner equal
// to InstanceID() with a nil lease means this instance already holds the
// key through another lease.
func (c *Cluster) Claim(ctx context.Context, key string) (*Lease, string, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, "", err
	}
	value, _ := json.Marshal(ownerValue{Instance: c.id, Key: key})
	// The key can vanish between a failed create and the read of its
	// owner (expiry, release): then the create is tried again.
	for range 3 {
		sent := time.Now()
		rev, err := c.kv.Create(ctx, k.kvKey(), value)
		if err == nil {
			l := &Lease{c: c, key: k, value: value, revision: rev,
				lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
			go l.renew(sent)
			return l, c.id, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, "", fmt.Errorf("claim %s: %w: %w", key, ErrUnreachable, err)
		}
		e, err := c.kv.Get(ctx, k.kvKey())
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("claim %s: read the owner: %w: %w", key, ErrUnreachable, err)
		}
		return nil, decodeOwner(e.Value()), nil
	}
	return nil, "", fmt.Errorf("claim %s: the key keeps changing hands", key)
}

// Key is the key the lease holds, as given to Claim.
func (l *Lease) Key() string { return l.key.full }

// Lost is closed when the lease is lost (not when it is released).
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err says why the lease was lost (wrapping ErrLeaseLost), nil before.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// renew rewrites the key every third of the TTL, each write conditional
// on the revision of our last one, so that it never overwrites another
// owner. The server drops the key a TTL after its last write, which comes
// after we sent it: so the lease is safe until a TTL after the send of the
// last successful renewal, and lost from then on.
func (l *Lease) renew(claimed time.Time) {
	defer close(l.done)
	every := l.c.ttl / 3
	deadline := claimed.Add(l.c.ttl)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		sent := time.Now()
		if !sent.Before(deadline) {
			l.lose(fmt.Errorf("%w: %s not renewed for %s", ErrLeaseLost, l.key.full, l.c.ttl))
			return
		}
		err := l.renewOnce(deadline)
		switch {
		case err == nil:
			deadline = sent.Add(l.c.ttl)
		case errors.Is(err, ErrLeaseLost):
			l.lose(err)
			return
		case errors.Is(err, nats.ErrConnectionClosed): // Cluster.Close: it never comes back
			l.lose(fmt.Errorf("%w: %s: %w", ErrLeaseLost, l.key.full, err))
			return
		default: // NATS unreachable for now: the deadline decides
			l.c.log.Warn("cannot renew a lease; retrying", "key", l.key.full, "err", err)
		}
	}
}

// renewOnce renews the key once, within the deadline.
func (l *Lease) renewOnce(deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	l.mu.Lock()
	rev := l.revision
	l.mu.Unlock()
	newRev, err := l.c.kv.Update(ctx, l.key.kvKey(), l.value, rev)
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Our revision is not the last: the key expired while we could not
		// renew (NATS restarted, say), or another instance holds it. If it
		// is free, it is ours again, and no other instance ran the room.
		newRev, err = l.c.kv.Create(ctx, l.key.kvKey(), l.value)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("%w: %s is held by another instance", ErrLeaseLost, l.key.full)
		}
		if err == nil {
			l.c.log.Info("lease claimed again after it had expired", "key", l.key.full)
		}
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.revision = newRev
	l.mu.Unlock()
	return nil
}

func (l *Lease) lose(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	l.c.log.Warn("lease lost", "key", l.key.full, "err", err)
	close(l.lost)
}

// Release ends the lease: it stops renewing and deletes the key if it is
// still ours, so that the next claim succeeds at once instead of a TTL
// later. Safe to call more than once, and after the lease was lost.
func (l *Lease) Release(ctx context.Context) error {
	l.stopOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.releaseErr = l.deleteKey(ctx)
	})
	return l.releaseErr
}

// deleteKey deletes the key unless it was lost or written by another
// owner since our last write.
func (l *Lease) deleteKey(ctx context.Context) error {
	if l.Err() != nil {
		return nil
	}
	l.mu.Lock()
	rev := l.revision
	l.mu.Unlock()
	err := l.c.kv.Delete(ctx, l.key.kvKey(), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("release %s: %w", l.key.full, err)
	}
	return nil
}
