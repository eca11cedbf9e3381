// Package metrics is wsgate's Prometheus metrics and health endpoints,
// served on a listener of their own (--metrics-address HOST:PORT), never on
// the WebSocket port.
//
// # Use
//
// The server makes one *Metrics with New when --metrics-address is given and
// keeps nil otherwise: every method of a nil *Metrics does nothing, so the
// recording sites need no if-statements and cost nothing when metrics are
// off. Each recording method is called once per event of a connection, a
// program, a room or a session, never per message; messages and bytes are
// added once, when a connection ends, from the connection's own counters.
//
//	m := metrics.New()
//	srv, err := m.Serve(cfg.MetricsAddress, server.Ready) // before accepting WebSockets
//	defer srv.Shutdown(ctx)
//
//	m.Refused(metrics.ReasonOrigin)                     // an upgrade answered with an HTTP error
//	m.ConnectionOpened()                                // upgrade done
//	m.ProgramStarted(time.Since(upgraded))              // program running
//	m.ProgramExited(metrics.OutcomeFor(st.Code, st.Signal != 0))
//	m.AddTraffic(msgsIn, bytesIn, msgsOut, bytesOut)    // connection ended
//	m.ConnectionClosed(closeCode)
//
// # Endpoints
//
//	GET /metrics  the metrics below, in the Prometheus text or protobuf format
//	GET /healthz  200 "ok" while the process serves
//	GET /readyz   200 "ok" while the server accepts new connections; 503 with
//	              the reason ("draining", "--maxforks reached") otherwise
//
// Any other path answers 404. A load balancer's health check belongs on
// /readyz (a draining instance is healthy but takes no new client); a
// supervisor's liveness check on /healthz.
//
// # Metrics
//
// Every label value listed here exists from the start with the value 0, so a
// dashboard shows 0 rather than no data.
//
//	wsgate_connections_active            gauge      WebSocket connections open now.
//	wsgate_connections_total{code}       counter    Connections ended, by the close code sent or
//	                                                received: "1000" to "1014" (1000 normal, 1001
//	                                                going away or drain, 1006 dropped without a
//	                                                close frame, 1011 the program failed, ...), or
//	                                                "other" for any other code (application codes
//	                                                3000-4999 included: the peer picks them, so
//	                                                they must not make series without bound).
//	wsgate_programs_running              gauge      Programs running now.
//	wsgate_program_starts_total          counter    Programs started.
//	wsgate_program_exits_total{outcome}  counter    Programs ended, by outcome: "exit0",
//	                                                "exit_nonzero", "signal" (wsgate's own stop
//	                                                included), "limit" (ended by wsgate for
//	                                                crossing a resource limit).
//	wsgate_spawn_seconds                 histogram  Time from the WebSocket upgrade to a running
//	                                                program; buckets from 0.2 ms to 1 s.
//	wsgate_messages_total{direction}     counter    WebSocket messages of ended connections, by
//	                                                direction: "in" (client to program), "out"
//	                                                (program to client).
//	wsgate_bytes_total{direction}        counter    Payload bytes of ended connections, by
//	                                                direction, as above.
//	wsgate_refused_total{reason}         counter    Upgrade requests refused, by reason: "auth",
//	                                                "origin", "route" (no program for the path),
//	                                                "maxforks", "resources" (the program could not
//	                                                be started), "draining", "handshake" (not a
//	                                                valid WebSocket upgrade).
//	wsgate_rooms_active{kind}            gauge      Rooms (one program several connections attach
//	                                                to) open now, by kind: "shared", "mux".
//	wsgate_room_clients                  gauge      Connections attached to a room now (with
//	                                                --cluster, also those bridged to a room
//	                                                another instance runs).
//	wsgate_room_remote_clients           gauge      Clients of other instances attached to the
//	                                                rooms this instance runs (--cluster).
//	wsgate_resumable_sessions{state}     gauge      Resumable sessions alive now, by state:
//	                                                "attached" (a connection is bridged to the
//	                                                program), "detached" (the program runs on,
//	                                                waiting for a client to resume it).
//
// Traffic counts only move when a connection ends, so a long connection's
// traffic appears at once at its end; rate() over a window longer than the
// typical connection reads right.
//
// The Go runtime collector (go_*: goroutines, heap, GC) and the process
// collector (process_*: CPU seconds, resident memory, open and maximum file
// descriptors) are registered too. process_open_fds against
// process_max_fds is the first limit a busy instance meets.
package metrics
