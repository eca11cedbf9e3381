package metrics

import (
	"fmt"
	"testing"
	"time"
)

func TestScrapeReportsEachRecordedEvent(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)

	for range 3 {
		m.ConnectionOpened()
	}
	m.ConnectionClosed(1000)
	m.ConnectionClosed(1011)
	m.AddTraffic(5, 120, 7, 3000)
	m.AddTraffic(1, 10, 0, 0)
	m.ProgramStarted(time.Millisecond)
	m.ProgramStarted(2 * time.Millisecond)
	m.ProgramExited(OutcomeSignal)
	m.Refused(ReasonMaxForks)
	m.Refused(ReasonMaxForks)
	m.Refused(ReasonDraining)
	m.RoomOpened(RoomShared)
	m.RoomOpened(RoomShared)
	m.RoomClosed(RoomShared)
	m.RoomOpened(RoomMux)
	m.RoomClientJoined()
	m.RoomClientJoined()
	m.RoomClientLeft()
	m.RemoteRoomClientJoined()
	m.RemoteRoomClientJoined()
	m.RemoteRoomClientJoined()
	m.RemoteRoomClientLeft()
	m.SessionChanged(SessionNone, SessionAttached)
	m.SessionChanged(SessionNone, SessionAttached)
	m.SessionChanged(SessionAttached, SessionDetached)

	f := scrape(t, s)
	wantValue(t, f, 1, "wsgate_connections_active")
	wantValue(t, f, 1, "wsgate_connections_total", "code", "1000")
	wantValue(t, f, 1, "wsgate_connections_total", "code", "1011")
	wantValue(t, f, 0, "wsgate_connections_total", "code", "1006")
	wantValue(t, f, 6, "wsgate_messages_total", "direction", "in")
	wantValue(t, f, 130, "wsgate_bytes_total", "direction", "in")
	wantValue(t, f, 7, "wsgate_messages_total", "direction", "out")
	wantValue(t, f, 3000, "wsgate_bytes_total", "direction", "out")
	wantValue(t, f, 2, "wsgate_program_starts_total")
	wantValue(t, f, 1, "wsgate_programs_running")
	wantValue(t, f, 1, "wsgate_program_exits_total", "outcome", "signal")
	wantValue(t, f, 0, "wsgate_program_exits_total", "outcome", "exit0")
	wantValue(t, f, 2, "wsgate_refused_total", "reason", "maxforks")
	wantValue(t, f, 1, "wsgate_refused_total", "reason", "draining")
	wantValue(t, f, 0, "wsgate_refused_total", "reason", "auth")
	wantValue(t, f, 1, "wsgate_rooms_active", "kind", "shared")
	wantValue(t, f, 1, "wsgate_rooms_active", "kind", "mux")
	wantValue(t, f, 1, "wsgate_room_clients")
	wantValue(t, f, 2, "wsgate_room_remote_clients")
	wantValue(t, f, 1, "wsgate_resumable_sessions", "state", "attached")
	wantValue(t, f, 1, "wsgate_resumable_sessions", "state", "detached")
	if got := series(t, f, "wsgate_spawn_seconds").GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("wsgate_spawn_seconds count = %d, want 2", got)
	}
}

func TestEveryKnownLabelValueIsExportedBeforeAnyEvent(t *testing.T) {
	f := scrape(t, startServer(t, New(), nil))
	for code := 1000; code <= 1014; code++ {
		wantValue(t, f, 0, "wsgate_connections_total", "code", fmt.Sprint(code))
	}
	wantValue(t, f, 0, "wsgate_connections_total", "code", "other")
	for _, o := range Outcomes {
		wantValue(t, f, 0, "wsgate_program_exits_total", "outcome", string(o))
	}
	for _, r := range Reasons {
		wantValue(t, f, 0, "wsgate_refused_total", "reason", string(r))
	}
	for _, d := range []string{"in", "out"} {
		wantValue(t, f, 0, "wsgate_messages_total", "direction", d)
		wantValue(t, f, 0, "wsgate_bytes_total", "direction", d)
	}
	for _, k := range RoomKinds {
		wantValue(t, f, 0, "wsgate_rooms_active", "kind", string(k))
	}
	for _, st := range SessionStates {
		wantValue(t, f, 0, "wsgate_resumable_sessions", "state", string(st))
	}
	for _, name := range []string{"wsgate_connections_active", "wsgate_programs_running", "wsgate_program_starts_total", "wsgate_room_clients", "wsgate_room_remote_clients"} {
		wantValue(t, f, 0, name)
	}
	if got := series(t, f, "wsgate_spawn_seconds").GetHistogram().GetSampleCount(); got != 0 {
		t.Errorf("wsgate_spawn_seconds count = %d before any start", got)
	}
	// The Go and process collectors are registered too.
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		if _, ok := f[name]; !ok {
			t.Errorf("no %s: the Go or process collector is missing", name)
		}
	}
}

func TestCloseCodesOutsideTheTableAreCountedAsOther(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	for _, code := range []int{999, 1015, 3000, 4999, 0, -1} {
		m.ConnectionOpened()
		m.ConnectionClosed(code)
	}
	m.ConnectionOpened()
	m.ConnectionClosed(1006)
	f := scrape(t, s)
	wantValue(t, f, 6, "wsgate_connections_total", "code", "other")
	wantValue(t, f, 1, "wsgate_connections_total", "code", "1006")
	wantValue(t, f, 0, "wsgate_connections_active")
	if n := len(f["wsgate_connections_total"].GetMetric()); n != 16 {
		t.Errorf("wsgate_connections_total has %d series, want 16 (1000-1014 and other)", n)
	}
}

func TestSpawnIsCountedInItsBucket(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	m.ProgramStarted(3 * time.Millisecond)

	h := series(t, scrape(t, s), "wsgate_spawn_seconds").GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 0.003 {
		t.Errorf("count %d, sum %v; want 1, 0.003", h.GetSampleCount(), h.GetSampleSum())
	}
	buckets := h.GetBucket()
	if len(buckets) == 0 || buckets[0].GetUpperBound() > 0.0002 || buckets[len(buckets)-1].GetUpperBound() < 1 {
		t.Fatalf("buckets %v do not span 0.2 ms to 1 s", buckets)
	}
	for _, b := range buckets {
		want := uint64(0)
		if b.GetUpperBound() >= 0.005 { // 3 ms lies in the (0.002, 0.005] bucket
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

func TestProgramExitsAreCountedByOutcome(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	for _, o := range Outcomes {
		m.ProgramStarted(time.Millisecond)
		m.ProgramExited(o)
	}
	m.ProgramStarted(time.Millisecond)
	m.ProgramExited(OutcomeExitNonzero)
	f := scrape(t, s)
	wantValue(t, f, 1, "wsgate_program_exits_total", "outcome", "exit0")
	wantValue(t, f, 2, "wsgate_program_exits_total", "outcome", "exit_nonzero")
	wantValue(t, f, 1, "wsgate_program_exits_total", "outcome", "signal")
	wantValue(t, f, 1, "wsgate_program_exits_total", "outcome", "limit")
	wantValue(t, f, 0, "wsgate_programs_running")
	wantValue(t, f, 5, "wsgate_program_starts_total")
}

func TestOutcomeForClassifiesAnExitStatus(t *testing.T) {
	for _, c := range []struct {
		code     int
		signaled bool
		want     Outcome
	}{
		{0, false, OutcomeExit0},
		{3, false, OutcomeExitNonzero},
		{0, true, OutcomeSignal},
		{255, true, OutcomeSignal},
	} {
		if got := OutcomeFor(c.code, c.signaled); got != c.want {
			t.Errorf("OutcomeFor(%d, %v) = %q, want %q", c.code, c.signaled, got, c.want)
		}
	}
}

func TestNegativeTrafficIsIgnored(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	m.AddTraffic(2, 20, 3, 30)
	m.AddTraffic(-1, -1, -1, -1) // a counter that went down would panic
	f := scrape(t, s)
	wantValue(t, f, 2, "wsgate_messages_total", "direction", "in")
	wantValue(t, f, 20, "wsgate_bytes_total", "direction", "in")
	wantValue(t, f, 3, "wsgate_messages_total", "direction", "out")
	wantValue(t, f, 30, "wsgate_bytes_total", "direction", "out")
}

func TestSettersReplaceTheRoomAndSessionGauges(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	m.RoomOpened(RoomMux)
	m.SetRooms(RoomMux, 4)
	m.SetRooms(RoomShared, 2)
	m.SetRoomClients(9)
	m.SetSessions(SessionDetached, 5)
	m.SetSessions(SessionNone, 7) // not a state: ignored
	m.SessionChanged(SessionAttached, SessionAttached)
	f := scrape(t, s)
	wantValue(t, f, 4, "wsgate_rooms_active", "kind", "mux")
	wantValue(t, f, 2, "wsgate_rooms_active", "kind", "shared")
	wantValue(t, f, 9, "wsgate_room_clients")
	wantValue(t, f, 5, "wsgate_resumable_sessions", "state", "detached")
	wantValue(t, f, 0, "wsgate_resumable_sessions", "state", "attached")
}

func TestSessionLifecycleReturnsTheGaugesToZero(t *testing.T) {
	m := New()
	s := startServer(t, m, nil)
	m.SessionChanged(SessionNone, SessionAttached)
	m.SessionChanged(SessionAttached, SessionDetached)
	m.SessionChanged(SessionDetached, SessionAttached)
	m.SessionChanged(SessionAttached, SessionDetached)
	m.SessionChanged(SessionDetached, SessionNone)
	f := scrape(t, s)
	wantValue(t, f, 0, "wsgate_resumable_sessions", "state", "attached")
	wantValue(t, f, 0, "wsgate_resumable_sessions", "state", "detached")
}

func TestSeveralMetricsLiveSideBySide(t *testing.T) {
	a, b := New(), New() // would panic on a shared registry: duplicate registration
	a.ConnectionOpened()
	wantValue(t, scrape(t, startServer(t, a, nil)), 1, "wsgate_connections_active")
	wantValue(t, scrape(t, startServer(t, b, nil)), 0, "wsgate_connections_active")
	if a.Registry() == b.Registry() {
		t.Error("two Metrics share one registry")
	}
}

func TestNilMetricsIgnoresEveryCall(t *testing.T) {
	var m *Metrics
	// Each call would dereference nil without its guard.
	m.ConnectionOpened()
	m.ConnectionClosed(1000)
	m.AddTraffic(1, 2, 3, 4)
	m.ProgramStarted(time.Millisecond)
	m.ProgramExited(OutcomeExit0)
	m.Refused(ReasonAuth)
	m.RoomOpened(RoomShared)
	m.RoomClosed(RoomShared)
	m.SetRooms(RoomMux, 1)
	m.RoomClientJoined()
	m.RoomClientLeft()
	m.SetRoomClients(1)
	m.SessionChanged(SessionNone, SessionAttached)
	m.SetSessions(SessionAttached, 1)
	if m.Registry() != nil {
		t.Error("a nil *Metrics has a registry")
	}
}

// The recording methods are called on every connection: with the label
// values this package defines they must not allocate.
func TestRecordingAConnectionDoesNotAllocate(t *testing.T) {
	m := New()
	allocs := testing.AllocsPerRun(1000, func() {
		m.ConnectionOpened()
		m.ProgramStarted(time.Millisecond)
		m.RoomClientJoined()
		m.SessionChanged(SessionNone, SessionAttached)
		m.SessionChanged(SessionAttached, SessionNone)
		m.RoomClientLeft()
		m.ProgramExited(OutcomeExitNonzero)
		m.AddTraffic(10, 1000, 10, 1000)
		m.ConnectionClosed(1011)
		m.Refused(ReasonOrigin)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per connection, want 0", allocs)
	}
}

func BenchmarkConnectionOpenedClosed(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ConnectionOpened()
		m.ConnectionClosed(1000)
	}
}

func BenchmarkConnectionOpenedClosedParallel(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ConnectionOpened()
			m.ConnectionClosed(1000)
		}
	})
}

func BenchmarkConnectionLifecycle(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ConnectionOpened()
		m.ProgramStarted(time.Millisecond)
		m.ProgramExited(OutcomeExit0)
		m.AddTraffic(10, 1000, 10, 1000)
		m.ConnectionClosed(1000)
	}
}

func BenchmarkNilMetrics(b *testing.B) {
	var m *Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.ConnectionOpened()
		m.ConnectionClosed(1000)
	}
}
