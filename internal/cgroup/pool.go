//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"sync"
)

// Creating a group costs a mkdir in every hierarchy in use, the limit
// writes and an open; removing it costs the wait until it is empty and an
// rmdir in each. Both are kept off a connection's path: NewGroup takes a
// group made beforehand by a background goroutine, and Release hands the
// removal to another. The groups of the pool are created empty with their
// limits set, are never returned to it once handed out, and are named by a
// sequence number (conn-<n>): the name is fixed before the connection is
// known, and conn-* is what the guardian and Holds look for.

// poolSize is how many ready groups are kept for each limit configuration:
// enough for a burst of connections arriving while the refill catches up.
const poolSize = 4

// maxPooledConfigs bounds how many limit configurations get a pool; wsgate
// uses one. Groups with any other limits are created on demand.
const maxPooledConfigs = 4

// removalQueue bounds how many released groups may wait for removal; past
// it Release removes the group itself.
const removalQueue = 256

// pools is the Manager's stock of ready groups and its removal queue.
type pools struct {
	ready   map[Limits][]*Group // ready groups per limit configuration
	refill  chan struct{}       // wakes the refiller; capacity 1
	removal chan *Group         // released groups, removed in order
	workers sync.WaitGroup      // the refiller and the remover
}

// startPools starts the refiller and the remover; Close stops both.
func (m *Manager) startPools() {
	m.pools = pools{
		ready:   make(map[Limits][]*Group),
		refill:  make(chan struct{}, 1),
		removal: make(chan *Group, removalQueue),
	}
	m.pools.workers.Add(2)
	go m.refillPools()
	go m.removeReleased()
}

// take hands out a ready group with limits l, or nil when there is none;
// it asks for a refill either way. A group found populated (a process was
// moved into it from outside) is never handed out: take returns it in
// dirty, for the caller to release once m.mu is unlocked.
// m.mu must be held.
func (m *Manager) take(l Limits) (g *Group, dirty []*Group) {
	p := &m.pools
	ready, pooled := p.ready[l]
	if !pooled && len(p.ready) < maxPooledConfigs {
		p.ready[l] = nil // from now on, kept stocked
	}
	for g == nil && len(ready) > 0 {
		g, ready = ready[0], ready[1:]
		if !g.Empty() {
			dirty = append(dirty, g)
			g = nil
		}
	}
	if pooled {
		p.ready[l] = ready
	}
	select {
	case p.refill <- struct{}{}:
	default:
	}
	return g, dirty
}

// refillPools creates groups until every pool holds poolSize, each time it
// is woken, until Close closes the refill channel.
func (m *Manager) refillPools() {
	defer m.pools.workers.Done()
	for range m.pools.refill {
		for {
			l, ok := m.shortPool()
			if !ok {
				break
			}
			g, err := m.createGroup(l)
			if err != nil {
				break // NewGroup will create on demand and report the error
			}
			m.mu.Lock()
			if m.closed {
				m.mu.Unlock()
				g.Close()
				return
			}
			m.pools.ready[l] = append(m.pools.ready[l], g)
			m.mu.Unlock()
		}
	}
}

// shortPool names a limit configuration whose pool is not full.
func (m *Manager) shortPool() (Limits, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Limits{}, false
	}
	for l, ready := range m.pools.ready {
		if len(ready) < poolSize {
			return l, true
		}
	}
	return Limits{}, false
}

// createGroup creates a group with limits l under the next sequence name
// and registers it, for Close to remove whatever becomes of it.
func (m *Manager) createGroup(l Limits) (*Group, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("cgroup: manager closed")
	}
	m.seq++
	g := &Group{m: m, name: fmt.Sprintf("conn-%d", m.seq), limits: l, fd: -1}
	m.groups[g] = struct{}{}
	m.mu.Unlock()
	err := g.createUnified()
	if err == nil {
		err = g.createLegacy()
	}
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("cgroup: create group %s: %w", g.name, err)
	}
	return g, nil
}

// removeReleased removes the groups Release queued, until Close closes
// the queue and it is drained.
func (m *Manager) removeReleased() {
	defer m.pools.workers.Done()
	for g := range m.pools.removal {
		g.remove()
	}
}

// queueRemoval hands g to the remover; false when the queue is full or
// closed, and the caller removes g itself.
func (m *Manager) queueRemoval(g *Group) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	select {
	case m.pools.removal <- g:
		return true
	default:
		return false
	}
}

// stopPools stops the refiller and waits for the remover to drain its
// queue; m.closed is set, so neither gets new work. The ready groups stay
// registered in m.groups, and Close removes them with the rest.
func (m *Manager) stopPools() {
	m.mu.Lock()
	close(m.pools.refill)
	close(m.pools.removal)
	m.mu.Unlock()
	m.pools.workers.Wait()
}
