package main

// End-to-end scenarios: every testscripts/*.txtar file is a transcript that
// runs the real wsgate program (this test binary, re-executed as "wsgate")
// against the sample backends in testscripts/ and checks what a client, an
// HTTP user and the process table see.
//
// Besides testscript's built-in commands (exec, stdout, stderr, ...), a
// scenario has these, defined in the e2e_*_test.go files:
//
//	wsgate-start [NAME=VALUE...] [FLAGS...] COMMAND [ARGS...]
//	    start wsgate in the background on 127.0.0.1 with --port 0 and the
//	    given flags; set $URL (ws://127.0.0.1:PORT), $HTTP, $HOSTPORT and
//	    $PORT. wsgate's own environment is the scenario's as setup made it
//	    (a later env command does not reach it) plus the NAME=VALUE pairs.
//	    The server is stopped at the end of the script.
//	wsgate-stop [-signal TERM] [-status 0] [-within 10s] [SIGNAL]
//	    signal the server, wait for it to exit, check its exit status, that
//	    it took at most -within, and that its log shows no data race or panic.
//	wsgate-log [-count=N] [-within 10s] REGEXP
//	    wait until at least N lines of the server's log (its stderr) match
//	    REGEXP and print them to stdout. With !, check that no line matches
//	    right now.
//	wsgate-run [NAME=VALUE...] ARGS...
//	    run wsgate in the foreground (at most 15 s); stdout and stderr are
//	    kept for the stdout and stderr commands. With !, it must fail.
//	ws ...
//	    a WebSocket client (github.com/coder/websocket): see e2e_ws_test.go.
//	http-get [-H 'Name: value']... URL
//	    GET URL (redirects are not followed) and print the response.
//	http-raw LINE...
//	    send the request LINE... (CRLF added) to $HOSTPORT and print the
//	    response.
//	proc [-within 5s] [-after 0s] TEXT
//	    wait until some process has TEXT in its command line. With !, wait
//	    until none has, and check that they were not gone sooner than -after
//	    from the start of the last ws close or ws drop.
//
// Every scenario gets $SCRIPTS, the absolute path of testscripts/, and
// $MARK, a string unique to the scenario run for naming processes.

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"wsgate": main})
}

func TestScripts(t *testing.T) {
	scripts, err := filepath.Abs("testscripts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Reports that a deferred stop found after its script had ended.
		scLateProblems.Lock()
		defer scLateProblems.Unlock()
		for _, p := range scLateProblems.list {
			t.Error(p)
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			var b [6]byte
			rand.Read(b[:])
			env.Setenv("SCRIPTS", scripts)
			env.Setenv("MARK", "e2e"+hex.EncodeToString(b[:]))
			// The race detector's one-second pause at exit would blur the
			// shutdown timings the scenarios check.
			env.Setenv("GORACE", strings.TrimSpace(env.Getenv("GORACE")+" atexit_sleep_ms=0"))
			st := &scState{
				name:  filepath.Base(env.WorkDir),
				mark:  env.Getenv("MARK"),
				conns: make(map[string]*scWsConn),
			}
			for _, kv := range env.Vars {
				if name, _, ok := strings.Cut(kv, "="); ok && scEnvNameRE.MatchString(name) {
					st.envNames = append(st.envNames, name)
				}
			}
			env.Values[scStateKey{}] = st
			env.Defer(st.cleanup)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wsgate-start": scCmdWsgateStart,
			"wsgate-stop":  scCmdWsgateStop,
			"wsgate-log":   scCmdWsgateLog,
			"wsgate-run":   scCmdWsgateRun,
			"ws":           scCmdWS,
			"http-get":     scCmdHTTPGet,
			"http-raw":     scCmdHTTPRaw,
			"proc":         scCmdProc,
			"rawws":        scCmdRawWS,
			"rawtcp":       scCmdRawTCP,
			"ci-fail":      scCmdCIFail,
			// e2e_sec_test.go
			"sec-start":       secCmdStart,
			"sec-signal":      secCmdSignal,
			"free-port":       secCmdFreePort,
			"gencert":         secCmdGencert,
			"tls-dial":        secCmdTLSDial,
			"ws-once":         secCmdWSOnce,
			"sec-get":         secCmdGet,
			"htpasswd-bcrypt": secCmdHtpasswd,
			"is-root":         secCmdIsRoot,
			"reverse-name":    secCmdReverseName,
		},
	})
}

var scEnvNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scLateProblems collects what a script's deferred clean-up found wrong: it
// runs after the script's last command and cannot fail the script itself.
var scLateProblems struct {
	sync.Mutex
	list []string
}

// scState is one scenario's harness state.
type scState struct {
	name     string
	mark     string
	envNames []string // the variables of the scenario's environment at setup
	server   *scWsgateProc
	conns    map[string]*scWsConn
	lastEnd  time.Time // when the last ws close or ws drop began
}

type scStateKey struct{}

func scStateOf(ts *testscript.TestScript) *scState {
	return ts.Value(scStateKey{}).(*scState)
}

// environ is the environment for a wsgate process: the scenario's (as far as
// setup defined it, with current values) plus extra NAME=VALUE pairs.
func (st *scState) environ(ts *testscript.TestScript, extra []string) []string {
	var env []string
	for _, name := range st.envNames {
		env = append(env, name+"="+ts.Getenv(name))
	}
	return append(env, extra...)
}

// cleanup runs at the end of a scenario, passed or failed: it drops the
// client connections, stops the server and kills whatever process the
// scenario's marker names (a scenario that passed left none).
func (st *scState) cleanup() {
	for _, c := range st.conns {
		c.conn.CloseNow()
	}
	if st.server != nil {
		if problem := st.server.stopAtEnd(); problem != "" {
			scLateProblems.Lock()
			scLateProblems.list = append(scLateProblems.list, st.name+": "+problem)
			scLateProblems.Unlock()
		}
	}
	for _, p := range scFindProcs(st.mark) {
		if proc, err := os.FindProcess(p.pid); err == nil {
			proc.Kill()
		}
	}
}

// scSplitEnvArgs splits leading NAME=VALUE arguments from the rest.
func scSplitEnvArgs(args []string) (env, rest []string) {
	for len(args) > 0 {
		name, _, ok := strings.Cut(args[0], "=")
		if !ok || !scEnvNameRE.MatchString(name) {
			break
		}
		env = append(env, args[0])
		args = args[1:]
	}
	return env, args
}

// scTruncate shortens s for a message.
func scTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
