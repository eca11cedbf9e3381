//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// soak is one run: its settings, its wsgate, and what it saw.
type soak struct {
	pingInterval, pingTimeout time.Duration
	closeGrace, killGrace     time.Duration
	deadline                  time.Time

	marker string // the run's copy of the fault programs: in every program's command line
	logDir string
	url    string // ws://127.0.0.1:PORT of the wsgate being driven
	srv    *launch.Server

	tallies []*tally // one per fault, in faults() order

	churned  int
	churnFor time.Duration

	before, after                     figures
	goroutinesBefore, goroutinesAfter int
	leftPrograms                      []procfs.Proc
	leftZombies                       []int
	problems                          []string // failures outside the table
}

// tally is what the clients of one fault saw.
type tally struct {
	fault
	mu       sync.Mutex
	conns    int
	outcomes map[string]int
	failures int
	errors   []string // the first few
}

func (t *tally) record(outcome string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns++
	if outcome != "" {
		t.outcomes[outcome]++
	}
	if err != nil {
		t.failures++
		if len(t.errors) < 3 {
			t.errors = append(t.errors, err.Error())
		}
	}
}

// churnAndFaults runs conns echo connections, workers at a time, and the
// fault mix alongside until the churn is done.
func (s *soak) churnAndFaults(conns, workers int) {
	for _, f := range faults() {
		s.tallies = append(s.tallies, &tally{fault: f, outcomes: map[string]int{}})
	}
	churnDone := make(chan struct{})
	var faultsWG sync.WaitGroup
	var nextID atomic.Int64
	for _, t := range s.tallies[1:] {
		for range t.workers {
			faultsWG.Add(1)
			go func() {
				defer faultsWG.Done()
				for {
					select {
					case <-churnDone:
						return
					default:
					}
					t.record(t.run(s, nextID.Add(1)))
				}
			}()
		}
	}
	echo := s.tallies[0]
	var left atomic.Int64
	left.Store(int64(conns))
	start := time.Now()
	var churnWG sync.WaitGroup
	for range workers {
		churnWG.Add(1)
		go func() {
			defer churnWG.Done()
			for left.Add(-1) >= 0 && time.Now().Before(s.deadline) {
				echo.record(echo.run(s, nextID.Add(1)))
			}
		}()
	}
	churnWG.Wait()
	s.churnFor, s.churned = time.Since(start), echo.conns
	close(churnDone)
	faultsWG.Wait()
	if s.churned < conns {
		s.problems = append(s.problems, fmt.Sprintf("only %d of %d echo connections within -timeout", s.churned, conns))
	}
}

// afterwards checks what the soak left: programs, zombies, figures, and
// that wsgate still serves; then counts its goroutines (which ends it).
func (s *soak) afterwards() {
	pid := s.srv.Cmd.Process.Pid
	s.leftPrograms = s.waitNoPrograms(15 * time.Second)
	s.leftZombies = append(zombies(pid), zombies(os.Getpid())...)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s.after, _ = figuresOf(pid)
		if s.after.FDs <= s.before.FDs+fdTolerance || time.Now().After(deadline) {
			break
		}
	}
	if _, err := runEcho(s, 0); err != nil {
		s.problems = append(s.problems, "wsgate no longer serves after the soak: "+err.Error())
	}
	s.waitNoPrograms(5 * time.Second)
	if problem := launch.LogProblem(s.readLog()); problem != "" {
		s.problems = append(s.problems, problem)
	}
	var err error
	if s.goroutinesAfter, err = goroutineCensus(s.srv, s.logDir+"/wsgate.log"); err != nil {
		s.problems = append(s.problems, "goroutine census: "+err.Error())
	}
}

func (s *soak) readLog() string {
	b, _ := os.ReadFile(s.logDir + "/wsgate.log")
	return string(b)
}

// programs lists the processes running one of the run's fault programs;
// the wsgates, whose --dir names the same directory, are not among them.
func (s *soak) programs() []procfs.Proc {
	var out []procfs.Proc
	for _, p := range procfs.Find(s.marker) {
		if !strings.Contains(p.Cmdline, "--dir "+s.marker) {
			out = append(out, p)
		}
	}
	return out
}

// waitNoPrograms waits until no fault program runs, at most within, and
// returns those still running then.
func (s *soak) waitNoPrograms(within time.Duration) []procfs.Proc {
	deadline := time.Now().Add(within)
	for {
		left := s.programs()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *soak) killPrograms() {
	for _, p := range s.programs() {
		syscall.Kill(p.PID, syscall.SIGKILL)
	}
}
