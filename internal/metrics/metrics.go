package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds wsgate's metrics in a registry of its own. Create it with New
// when --metrics-address is given; otherwise keep a nil *Metrics: every
// method of a nil *Metrics does nothing, so recording sites need no checks.
//
// All methods are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	connectionsActive prometheus.Gauge
	connectionsByCode []prometheus.Counter // index closeCodeIndex(code)

	programsRunning prometheus.Gauge
	programStarts   prometheus.Counter
	programExits    *prometheus.CounterVec
	exitsByOutcome  map[Outcome]prometheus.Counter
	spawnSeconds    prometheus.Histogram

	messagesIn, messagesOut prometheus.Counter
	bytesIn, bytesOut       prometheus.Counter

	refused         *prometheus.CounterVec
	refusedByReason map[Reason]prometheus.Counter

	rooms           *prometheus.GaugeVec
	roomsByKind     map[RoomKind]prometheus.Gauge
	roomClients     prometheus.Gauge
	remoteClients   prometheus.Gauge
	sessions        *prometheus.GaugeVec
	sessionsByState map[SessionState]prometheus.Gauge
}

// spawnBuckets cover a program start from a fork of a small binary (a few
// hundred microseconds) to an interpreter that loads for a second; each step
// is about 2 to 2.5 times the last.
var spawnBuckets = []float64{0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// New makes the metrics and registers them, with the Go runtime and process
// collectors, in a new registry (never prometheus.DefaultRegisterer, so that
// several can live in one process, as in tests). Every label value known in
// advance gets its series at once, so a dashboard sees 0 rather than nothing.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.newConnectionMetrics()
	m.newProgramMetrics()
	m.newTrafficMetrics()
	m.newRefusalMetrics()
	m.newRoomMetrics()
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry the metrics live in, for a caller that adds
// collectors of its own or gathers without HTTP.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

func (m *Metrics) newConnectionMetrics() {
	m.connectionsActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsgate_connections_active",
		Help: "WebSocket connections open now.",
	})
	byCode := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_connections_total",
		Help: "WebSocket connections ended, by the close code sent or received (1006: the connection dropped without a close frame; other: a code outside 1000-1014).",
	}, []string{"code"})
	for _, code := range closeCodeLabels() {
		m.connectionsByCode = append(m.connectionsByCode, byCode.WithLabelValues(code))
	}
	m.registry.MustRegister(m.connectionsActive, byCode)
}

func (m *Metrics) newProgramMetrics() {
	m.programsRunning = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsgate_programs_running",
		Help: "Programs running now.",
	})
	m.programStarts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wsgate_program_starts_total",
		Help: "Programs started.",
	})
	m.programExits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_program_exits_total",
		Help: "Programs ended, by outcome: exit0, exit_nonzero, signal, limit (ended by wsgate for crossing a resource limit).",
	}, []string{"outcome"})
	m.exitsByOutcome = make(map[Outcome]prometheus.Counter, len(Outcomes))
	for _, o := range Outcomes {
		m.exitsByOutcome[o] = m.programExits.WithLabelValues(string(o))
	}
	m.spawnSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "wsgate_spawn_seconds",
		Help:    "Time from the WebSocket upgrade to a running program.",
		Buckets: spawnBuckets,
	})
	m.registry.MustRegister(m.programsRunning, m.programStarts, m.programExits, m.spawnSeconds)
}

func (m *Metrics) newTrafficMetrics() {
	messages := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_messages_total",
		Help: "WebSocket messages of ended connections, by direction: in (client to program), out (program to client).",
	}, []string{"direction"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_bytes_total",
		Help: "Payload bytes of ended connections, by direction: in (client to program), out (program to client).",
	}, []string{"direction"})
	m.messagesIn, m.messagesOut = messages.WithLabelValues("in"), messages.WithLabelValues("out")
	m.bytesIn, m.bytesOut = bytes.WithLabelValues("in"), bytes.WithLabelValues("out")
	m.registry.MustRegister(messages, bytes)
}

func (m *Metrics) newRefusalMetrics() {
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_refused_total",
		Help: "Upgrade requests refused, by reason: auth, origin, route, maxforks, resources, draining, handshake.",
	}, []string{"reason"})
	m.refusedByReason = make(map[Reason]prometheus.Counter, len(Reasons))
	for _, r := range Reasons {
		m.refusedByReason[r] = m.refused.WithLabelValues(string(r))
	}
	m.registry.MustRegister(m.refused)
}

func (m *Metrics) newRoomMetrics() {
	m.rooms = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wsgate_rooms_active",
		Help: "Rooms (one program shared by several connections) open now, by kind: shared, mux.",
	}, []string{"kind"})
	m.roomsByKind = make(map[RoomKind]prometheus.Gauge, len(RoomKinds))
	for _, k := range RoomKinds {
		m.roomsByKind[k] = m.rooms.WithLabelValues(string(k))
	}
	m.roomClients = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsgate_room_clients",
		Help: "Connections attached to a room now (with --cluster, also those bridged to a room another instance runs).",
	})
	m.remoteClients = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsgate_room_remote_clients",
		Help: "Clients of other instances attached to the rooms this instance runs (--cluster).",
	})
	m.sessions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wsgate_resumable_sessions",
		Help: "Resumable sessions alive now, by state: attached (a connection is bridged to the program), detached (the program waits for a client to resume it).",
	}, []string{"state"})
	m.sessionsByState = make(map[SessionState]prometheus.Gauge, len(SessionStates))
	for _, s := range SessionStates {
		m.sessionsByState[s] = m.sessions.WithLabelValues(string(s))
	}
	m.registry.MustRegister(m.rooms, m.roomClients, m.remoteClients, m.sessions)
}
