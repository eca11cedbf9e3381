package scriptcmd

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// Params runs the scenarios of dir (testscripts/) with the commands of this
// package; the caller's TestMain has registered the wsgate program.
func Params(t *testing.T, dir string) testscript.Params {
	scripts, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Reports what a deferred stop found after its script had ended.
		lateProblems.Lock()
		defer lateProblems.Unlock()
		for _, p := range lateProblems.list {
			t.Error(p)
		}
	})
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               func(env *testscript.Env) error { return setup(env, scripts) },
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"wsgate-start":  cmdWsgateStart,
			"wsgate-stop":   cmdWsgateStop,
			"wsgate-log":    cmdWsgateLog,
			"wsgate-signal": cmdWsgateSignal,
			"wsgate-wait":   cmdWsgateWait,
			"wsgate-run":    cmdWsgateRun,
			"ws":            cmdWS,
			"http-get":      cmdHTTPGet,
			"http-raw":      cmdHTTPRaw,
			"proc":          cmdProc,
			"rawws":         cmdRawWS,
			"rawtcp":        cmdRawTCP,
			"ci-fail":       cmdCIFail,
			// sec.go
			"sec-start":       cmdSecStart,
			"sec-signal":      cmdSecSignal,
			"free-port":       cmdFreePort,
			"gencert":         cmdGencert,
			"tls-dial":        cmdTLSDial,
			"ws-once":         cmdWSOnce,
			"sec-get":         cmdSecGet,
			"htpasswd-bcrypt": cmdHtpasswd,
			"is-root":         cmdIsRoot,
			"reverse-name":    cmdReverseName,
		},
	}
}

// setup prepares one scenario: its variables and its harness state.
func setup(env *testscript.Env, scripts string) error {
	var b [6]byte
	rand.Read(b[:])
	env.Setenv("SCRIPTS", scripts)
	env.Setenv("MARK", "e2e"+hex.EncodeToString(b[:]))
	// The race detector's one-second pause at exit would blur the
	// shutdown timings the scenarios check.
	env.Setenv("GORACE", strings.TrimSpace(env.Getenv("GORACE")+" atexit_sleep_ms=0"))
	st := &scenario{
		name:  filepath.Base(env.WorkDir),
		mark:  env.Getenv("MARK"),
		conns: make(map[string]*wsConn),
	}
	for _, kv := range env.Vars {
		if name, _, ok := strings.Cut(kv, "="); ok && envNameRE.MatchString(name) {
			st.envNames = append(st.envNames, name)
		}
	}
	env.Values[scenarioKey{}] = st
	env.Defer(st.cleanup)
	return nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// lateProblems collects what a script's deferred clean-up found wrong: it
// runs after the script's last command and cannot fail the script itself.
var lateProblems struct {
	sync.Mutex
	list []string
}

// scenario is one scenario's harness state.
type scenario struct {
	name     string
	mark     string
	envNames []string // the variables of the scenario's environment at setup
	server   *launch.Server
	conns    map[string]*wsConn
	lastEnd  time.Time // when the last ws close or ws drop began
	// signalled is when wsgate-signal last signalled the server.
	signalled time.Time
}

type scenarioKey struct{}

func scenarioOf(ts *testscript.TestScript) *scenario {
	return ts.Value(scenarioKey{}).(*scenario)
}

// environ is the environment for a wsgate process: the scenario's (as far as
// setup defined it, with current values) plus extra NAME=VALUE pairs.
func (st *scenario) environ(ts *testscript.TestScript, extra []string) []string {
	var env []string
	for _, name := range st.envNames {
		env = append(env, name+"="+ts.Getenv(name))
	}
	return append(env, extra...)
}

// cleanup runs at the end of a scenario, passed or failed: it drops the
// client connections, stops the server and kills whatever process the
// scenario's marker names (a scenario that passed left none).
func (st *scenario) cleanup() {
	for _, c := range st.conns {
		c.conn.CloseNow()
	}
	if st.server != nil {
		if problem := stopAtEnd(st.server); problem != "" {
			lateProblems.Lock()
			lateProblems.list = append(lateProblems.list, st.name+": "+problem)
			lateProblems.Unlock()
		}
	}
	procfs.KillAll(st.mark)
}

// splitEnvArgs splits leading NAME=VALUE arguments from the rest.
func splitEnvArgs(args []string) (env, rest []string) {
	for len(args) > 0 {
		name, _, ok := strings.Cut(args[0], "=")
		if !ok || !envNameRE.MatchString(name) {
			break
		}
		env = append(env, args[0])
		args = args[1:]
	}
	return env, args
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
