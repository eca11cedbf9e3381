package metrics

import "time"

// The recording methods below are meant to be called once per event of a
// connection, a program, a room or a session, never per message: each is an
// atomic add on a series looked up at New, with no allocation for the label
// values this package defines. Every one of them is a no-op on a nil
// *Metrics.

// ConnectionOpened counts a connection whose upgrade succeeded.
func (m *Metrics) ConnectionOpened() {
	if m == nil {
		return
	}
	m.connectionsActive.Inc()
}

// ConnectionClosed counts the end of a connection counted by
// ConnectionOpened, under the close code sent or received (the one the close
// handshake settled on); 1006 when the connection dropped without a close
// frame.
func (m *Metrics) ConnectionClosed(code int) {
	if m == nil {
		return
	}
	m.connectionsActive.Dec()
	m.connectionsByCode[closeCodeIndex(code)].Inc()
}

// AddTraffic adds a connection's message and payload byte counts, "in" from
// the client to the program and "out" from the program to the client. Call
// it once, when the connection ends, with the connection's own counters.
// Negative counts are ignored (a counter never goes down).
func (m *Metrics) AddTraffic(msgsIn, bytesIn, msgsOut, bytesOut int64) {
	if m == nil {
		return
	}
	addCount(m.messagesIn, msgsIn)
	addCount(m.bytesIn, bytesIn)
	addCount(m.messagesOut, msgsOut)
	addCount(m.bytesOut, bytesOut)
}

func addCount(c interface{ Add(float64) }, n int64) {
	if n > 0 {
		c.Add(float64(n))
	}
}

// ProgramStarted counts a program that is now running; spawn is the time
// from the WebSocket upgrade that asked for it to the successful start.
func (m *Metrics) ProgramStarted(spawn time.Duration) {
	if m == nil {
		return
	}
	m.programStarts.Inc()
	m.programsRunning.Inc()
	m.spawnSeconds.Observe(spawn.Seconds())
}

// ProgramExited counts the end of a program counted by ProgramStarted.
// OutcomeFor turns an exit status into an Outcome.
func (m *Metrics) ProgramExited(outcome Outcome) {
	if m == nil {
		return
	}
	m.programsRunning.Dec()
	if c, ok := m.exitsByOutcome[outcome]; ok {
		c.Inc()
		return
	}
	m.programExits.WithLabelValues(string(outcome)).Inc()
}

// Refused counts an upgrade request answered with an HTTP error instead of
// a WebSocket.
func (m *Metrics) Refused(reason Reason) {
	if m == nil {
		return
	}
	if c, ok := m.refusedByReason[reason]; ok {
		c.Inc()
		return
	}
	m.refused.WithLabelValues(string(reason)).Inc()
}
