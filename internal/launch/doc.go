// Package launch starts wsgate, and the servers compared with it, for every
// test harness: the scenario commands (internal/scriptcmd), the end-to-end
// tests (internal/e2e), the conformance suite (internal/conformance) and the
// benchmark (bench). It is used only by tests and the benchmark.
//
// Start runs a server that prints where it listens on stdout, as wsgate
// does ("wsgate VERSION listening on ws://127.0.0.1:PORT/ ..."), waits
// (bounded) for that line and reads its addresses (Addrs: ws://, wss://,
// unix: sockets, the redirect port) once, for all callers. StartAt runs a
// server told where to listen (websocketd) and waits until it accepts a
// connection there. Either way the Server keeps what the process writes
// (Stdout, Log for stderr) in Buffers that tests can wait on, and Stop
// ends it the way a service manager would: a signal, a grace period, then
// SIGKILL. NATS runs Debian's nats-server the same way, for the cluster
// tests.
//
//	cmd := exec.Command(bin, "--address", "127.0.0.1", "--port", "0", "cat")
//	srv, err := launch.Start(cmd, 15*time.Second)
//	// srv.Addrs.URL is "ws://127.0.0.1:PORT"
//	defer srv.Stop(syscall.SIGTERM, 5*time.Second)
package launch
