//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The --connect measurement (issue 11, point 6): noVNC's traffic, binary
// messages on the "binary" subprotocol, through wsgate --connect and
// through Debian's websockify to the same TCP echo server, which this
// program serves itself on 127.0.0.1. The transfer, its window, its SHA-256
// check and its CPU accounting are those of the binary measurements
// (measureBinary); only the servers and the client's subprotocol differ.
// websockify forks a process per connection: its figures count that
// process as the server's child.

const (
	websockify  = "websockify"
	novncClient = "novnc" // the raw binary client, offering and requiring "binary" as noVNC does
)

var (
	flagWebsockify = flag.String("websockify", "websockify", "the websockify binary (Debian's package) of the --connect comparison")
	flagConnectMiB = flag.Int("connect-mib", 256, "MiB through the TCP echo server per --connect throughput test")

	websockifyPath string
)

func connectCase() binCase {
	const KiB = 1 << 10
	return binCase{
		key:     "connect_64k_w256k",
		label:   "--connect, TCP echo server: binary 64 KiB msgs, window 256 KiB",
		short:   "throughput, binary 64K msgs, window 256K (MB/s)",
		msg:     64 * KiB,
		window:  256 * KiB,
		maxMsg:  -1,
		servers: []string{wsgate, websockify},
	}
}

// findWebsockify sets websockifyPath from -websockify.
func findWebsockify() error {
	p, err := exec.LookPath(*flagWebsockify)
	if err != nil {
		return fmt.Errorf("websockify: %w (Debian: apt-get install websockify; make bench installs it)", err)
	}
	websockifyPath, err = filepath.Abs(p)
	return err
}

// websockifyVersion names the installed websockify: it has no --version,
// so the version is dpkg's when it came from Debian's package.
func websockifyVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "websockify").Output()
	if err != nil || len(out) == 0 {
		return "websockify (version unknown)"
	}
	return "websockify " + strings.TrimSpace(string(out)) + " (Debian)"
}

var (
	connectStreamOnce sync.Once
	connectStream     binStream
)

// runConnect measures the transfer through wsgate --connect, then through
// websockify, both to one echo server started for the round.
func (b *bench) runConnect() {
	bc := connectCase()
	connectStreamOnce.Do(func() { connectStream = newBinStream(*flagConnectMiB << 20) })
	backend, err := startEchoBackend()
	if err != nil {
		b.r.fail(wsgate, bc.label, err)
		return
	}
	defer backend.close()
	b.each(bc.label, spec{maxMsg: -1, connect: backend.addr()}, bc.servers, nil, func(s *server) (figures, error) {
		// launch dialled websockify to see it listen; the process it forked
		// for that connection must be gone before its children are counted.
		if _, err := s.waitChildren(0, 5*time.Second); err != nil {
			return nil, err
		}
		f, err := measureBinary(s, connectStream, bc, novncClient, 60*time.Second, *flagBinStall)
		if f != nil {
			f[bc.key+"_proxy_cpu_ms_mib"] = f[bc.key+"_cpu_ms_mib"] + f[bc.key+"_child_cpu_ms_mib"]
		}
		return f, err
	})
}

// echoBackend is the TCP server behind both gateways: it writes back what
// it reads, on each connection, until the gateway closes it.
type echoBackend struct {
	l     net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startEchoBackend() (*echoBackend, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("echo server: %w", err)
	}
	e := &echoBackend{l: l, conns: map[net.Conn]struct{}{}}
	e.wg.Add(1)
	go e.serve()
	return e, nil
}

func (e *echoBackend) addr() string { return e.l.Addr().String() }

func (e *echoBackend) serve() {
	defer e.wg.Done()
	for {
		c, err := e.l.Accept()
		if err != nil {
			return // closed
		}
		e.mu.Lock()
		e.conns[c] = struct{}{}
		e.mu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			io.Copy(c, c) // TCP to TCP: splice(2), no copy through this process
			c.Close()
			e.mu.Lock()
			delete(e.conns, c)
			e.mu.Unlock()
		}()
	}
}

// close stops the server: the listener and any connection a gateway left
// open.
func (e *echoBackend) close() {
	e.l.Close()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// connectFigureDefs are the figures of the --connect table, which
// printConnect prints beside websockify's instead of websocketd's.
func connectFigureDefs() []figureDef {
	bc := connectCase()
	d := func(suffix, label, format string) figureDef {
		return figureDef{key: bc.key + suffix, label: label, format: format, group: bc.label}
	}
	return []figureDef{
		d("", bc.short, "%.0f"),
		d("_cpu_ms_mib", "  same: server CPU per MiB (ms)", "%.2f"),
		d("_child_cpu_ms_mib", "  same: its children's CPU per MiB (ms)", "%.2f"),
		d("_proxy_cpu_ms_mib", "  same: server + children CPU per MiB (ms)", "%.2f"),
		d("_client_cpu_ms_mib", "  same: client + echo server CPU per MiB (ms)", "%.2f"),
	}
}

// connectTargets is issue 11's goal: at least twice websockify's MB/s.
func connectTargets() []target {
	key := connectCase().key
	return []target{{key, ">=", "≥ 2× websockify", func(r *report) float64 { return 2 * r.med(websockify, key) }}}
}

// printConnect prints the --connect table, when it was measured.
func (r *report) printConnect(w io.Writer, byKey map[string][]verdict) {
	var defs []figureDef
	for _, d := range figureDefs {
		if d.group == connectCase().label && (r.cell(wsgate, d) != "—" || r.cell(websockify, d) != "—") {
			defs = append(defs, d)
		}
	}
	if len(defs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n--connect vs websockify: %d MiB to a TCP echo server, client offering the \"binary\" subprotocol\n", *flagConnectMiB)
	const row = "%-50s %10s %10s %8s  %-50s %s\n"
	fmt.Fprintf(w, row, "figure", "wsgate", "websockify", "wsg/wsf", "target (bound)", "")
	fmt.Fprintln(w, strings.Repeat("-", 140))
	for _, d := range defs {
		ratio := ""
		if x, y := r.med(wsgate, d.key), r.med(websockify, d.key); !math.IsNaN(x) && !math.IsNaN(y) && y != 0 {
			ratio = fmt.Sprintf("%.2f", x/y)
		}
		t, result := "", ""
		for _, v := range byKey[d.key] {
			t, result = v.Target, v.Result
			if v.Bound != nil {
				t += fmt.Sprintf(" (%s)", strings.TrimSpace(fmt.Sprintf(d.format, *v.Bound)))
			}
		}
		fmt.Fprintf(w, row, d.label, r.cell(wsgate, d), r.cell(websockify, d), ratio, t, result)
	}
}
