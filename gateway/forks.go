package gateway

import "sync/atomic"

// forkLimit counts running children against --maxforks.
type forkLimit struct {
	max     int64 // 0 means no limit
	running atomic.Int64
}

// acquire takes a slot for one more child, or reports that none is free.
func (l *forkLimit) acquire() bool {
	if l.running.Add(1) > l.max && l.max > 0 {
		l.running.Add(-1)
		return false
	}
	return true
}

func (l *forkLimit) release() { l.running.Add(-1) }

// full reports whether no slot is free now (for readiness).
func (l *forkLimit) full() bool { return l.max > 0 && l.running.Load() >= l.max }
