package metrics

import "strconv"

// Outcome is how a program ended, the outcome label of
// wsgate_program_exits_total.
type Outcome string

const (
	OutcomeExit0       Outcome = "exit0"        // exited with status 0
	OutcomeExitNonzero Outcome = "exit_nonzero" // exited with another status
	OutcomeSignal      Outcome = "signal"       // a signal ended it (wsgate's own stop included)
	OutcomeLimit       Outcome = "limit"        // wsgate ended it for crossing a resource limit
)

// Outcomes lists every Outcome; each is a series from the start.
var Outcomes = []Outcome{OutcomeExit0, OutcomeExitNonzero, OutcomeSignal, OutcomeLimit}

// OutcomeFor classifies an exit the way process.ExitStatus reports it:
// OutcomeFor(st.Code, st.Signal != 0). A program ended for crossing a limit
// is reported as OutcomeLimit by the caller, which alone knows why it
// stopped it.
func OutcomeFor(exitCode int, signaled bool) Outcome {
	switch {
	case signaled:
		return OutcomeSignal
	case exitCode == 0:
		return OutcomeExit0
	default:
		return OutcomeExitNonzero
	}
}

// Reason is why an upgrade was refused, the reason label of
// wsgate_refused_total.
type Reason string

const (
	ReasonAuth      Reason = "auth"      // --basic-auth or another credential check failed
	ReasonOrigin    Reason = "origin"    // the Origin header is not allowed
	ReasonRoute     Reason = "route"     // no program for the path
	ReasonMaxForks  Reason = "maxforks"  // --maxforks programs are already running
	ReasonResources Reason = "resources" // the program could not be started (descriptors, memory, processes)
	ReasonDraining  Reason = "draining"  // the server is draining and takes no new connection
	ReasonHandshake Reason = "handshake" // the request was not a valid WebSocket upgrade
)

// Reasons lists every Reason; each is a series from the start.
var Reasons = []Reason{ReasonAuth, ReasonOrigin, ReasonRoute, ReasonMaxForks, ReasonResources, ReasonDraining, ReasonHandshake}

// RoomKind is the kind label of wsgate_rooms_active: a room is one program
// that several connections attach to.
type RoomKind string

const (
	RoomShared RoomKind = "shared" // --shared: every client sees every output
	RoomMux    RoomKind = "mux"    // --mux: messages are routed per client
)

// RoomKinds lists every RoomKind; each is a series from the start.
var RoomKinds = []RoomKind{RoomShared, RoomMux}

// SessionState is the state label of wsgate_resumable_sessions.
type SessionState string

const (
	SessionAttached SessionState = "attached" // a connection is bridged to the session's program
	SessionDetached SessionState = "detached" // the program runs on, waiting for a client to resume it
)

// SessionStates lists every SessionState; each is a series from the start.
var SessionStates = []SessionState{SessionAttached, SessionDetached}

// Close codes are counted one series per code from 1000 to 1014 (1004 is
// reserved and never seen, but keeping the table contiguous keeps the lookup
// an index), and every other code, application codes 3000-4999 included, as
// "other": the peer chooses the code it sends, and a label it chooses must
// not be able to create series without bound.
const (
	firstCloseCode = 1000
	lastCloseCode  = 1014
	otherCloseCode = "other"
)

// closeCodeLabels are the code label values, index i for code 1000+i, and
// otherCloseCode last.
func closeCodeLabels() []string {
	labels := make([]string, 0, lastCloseCode-firstCloseCode+2)
	for code := firstCloseCode; code <= lastCloseCode; code++ {
		labels = append(labels, strconv.Itoa(code))
	}
	return append(labels, otherCloseCode)
}

// closeCodeIndex is the index of code's label in closeCodeLabels.
func closeCodeIndex(code int) int {
	if code < firstCloseCode || code > lastCloseCode {
		return lastCloseCode - firstCloseCode + 1
	}
	return code - firstCloseCode
}
