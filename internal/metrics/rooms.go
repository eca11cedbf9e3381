package metrics

import "github.com/prometheus/client_golang/prometheus"

// Rooms and resumable sessions are gauges. Either report each change where it
// happens (RoomOpened/RoomClosed, RoomClientJoined/RoomClientLeft,
// SessionChanged), or, where a table already knows its size, set the value
// from it (SetRooms, SetRoomClients, SetSessions); do not mix both for one
// gauge.

// RoomOpened counts a room whose program has started.
func (m *Metrics) RoomOpened(kind RoomKind) {
	if m == nil {
		return
	}
	m.roomGauge(kind).Inc()
}

// RoomClosed counts the end of a room counted by RoomOpened.
func (m *Metrics) RoomClosed(kind RoomKind) {
	if m == nil {
		return
	}
	m.roomGauge(kind).Dec()
}

// SetRooms sets the number of open rooms of one kind.
func (m *Metrics) SetRooms(kind RoomKind, n int) {
	if m == nil {
		return
	}
	m.roomGauge(kind).Set(float64(n))
}

func (m *Metrics) roomGauge(kind RoomKind) prometheus.Gauge {
	if g, ok := m.roomsByKind[kind]; ok {
		return g
	}
	return m.rooms.WithLabelValues(string(kind))
}

// RoomClientJoined counts a connection attached to a room.
func (m *Metrics) RoomClientJoined() {
	if m == nil {
		return
	}
	m.roomClients.Inc()
}

// RoomClientLeft counts a connection detached from its room.
func (m *Metrics) RoomClientLeft() {
	if m == nil {
		return
	}
	m.roomClients.Dec()
}

// RemoteRoomClientJoined counts a client of another instance attached to
// a room this instance runs (--cluster).
func (m *Metrics) RemoteRoomClientJoined() {
	if m == nil {
		return
	}
	m.remoteClients.Inc()
}

// RemoteRoomClientLeft counts the end of one counted by
// RemoteRoomClientJoined.
func (m *Metrics) RemoteRoomClientLeft() {
	if m == nil {
		return
	}
	m.remoteClients.Dec()
}

// SetRoomClients sets the number of connections attached to rooms.
func (m *Metrics) SetRoomClients(n int) {
	if m == nil {
		return
	}
	m.roomClients.Set(float64(n))
}

// SessionNone is the state of a resumable session before it exists and
// after it has ended, for SessionChanged.
const SessionNone SessionState = ""

// SessionChanged moves one resumable session from one state to another:
//
//	SessionChanged(SessionNone, SessionAttached)     // created by a connection
//	SessionChanged(SessionAttached, SessionDetached) // its connection went away
//	SessionChanged(SessionDetached, SessionAttached) // a client resumed it
//	SessionChanged(SessionDetached, SessionNone)     // its program ended, or it expired
func (m *Metrics) SessionChanged(from, to SessionState) {
	if m == nil || from == to {
		return
	}
	if from != SessionNone {
		m.sessionGauge(from).Dec()
	}
	if to != SessionNone {
		m.sessionGauge(to).Inc()
	}
}

// SetSessions sets the number of resumable sessions in one state.
func (m *Metrics) SetSessions(state SessionState, n int) {
	if m == nil || state == SessionNone {
		return
	}
	m.sessionGauge(state).Set(float64(n))
}

func (m *Metrics) sessionGauge(state SessionState) prometheus.Gauge {
	if g, ok := m.sessionsByState[state]; ok {
		return g
	}
	return m.sessions.WithLabelValues(string(state))
}
