//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// The child hop floor: the CPU a Go program spends to write a short line
// to cat's stdin and read it back from its stdout, the part of an echo
// that a server with a child has and the ceiling has not. It runs in this
// process, on pipes from os/exec (pollable, as wsgate's are), with one cat
// at a time and with as many as the round-trip test has connections, each
// driven by its own goroutine doing one round trip after the other. The
// server CPU per echo cannot go below the ceiling's plus about this.

// measureHop reports the hop's CPU per round trip, in µs, for 1 cat
// (hop_us_1, 20 times msgs round trips) and for conns cats at once
// (hop_us_n, 10 times msgs round trips each).
func measureHop(conns, msgs int, limit time.Duration) (figures, error) {
	one, err := hopCPU(1, 20*msgs, limit)
	if err != nil {
		return nil, err
	}
	many, err := hopCPU(conns, 10*msgs, limit)
	if err != nil {
		return nil, err
	}
	return figures{"hop_us_1": one, "hop_us_n": many}, nil
}

// hopCPU runs n round trips through each of conns cats at once and
// returns this process's CPU per round trip, in µs.
func hopCPU(conns, n int, limit time.Duration) (float64, error) {
	cats := make([]*catHop, 0, conns)
	defer func() {
		for _, c := range cats {
			c.close()
		}
	}()
	for range conns {
		c, err := startCatHop()
		if err != nil {
			return 0, err
		}
		cats = append(cats, c)
	}
	deadline := time.Now().Add(limit)
	cpu0 := selfCPU()
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for i, c := range cats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.roundTrips(n, deadline)
		}()
	}
	wg.Wait()
	cpu1 := selfCPU()
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("child hop floor: %w", err)
	}
	return float64(cpu1-cpu0) / float64(time.Microsecond) / float64(conns*n), nil
}

// selfCPU is this process's CPU time so far, to the microsecond
// (getrusage; /proc counts clock ticks of 10 ms).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// catHop is one cat and the ends of its pipes.
type catHop struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out io.ReadCloser
}

func startCatHop() (*catHop, error) {
	cmd := exec.Command(catPath)
	in, err1 := cmd.StdinPipe()
	out, err2 := cmd.StdoutPipe()
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &catHop{cmd: cmd, in: in, out: out}, nil
}

// roundTrips writes a line n times, each time reading it back whole and
// checking it, before deadline.
func (c *catHop) roundTrips(n int, deadline time.Time) error {
	msg := []byte("a message of 32 bytes, checked\n")
	buf := make([]byte, 64)
	for i := range n {
		if i%256 == 0 && time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d round trips in time", i, n)
		}
		if _, err := c.in.Write(msg); err != nil {
			return err
		}
		got := 0
		for got < len(msg) {
			k, err := c.out.Read(buf[got:])
			if err != nil {
				return err
			}
			got += k
		}
		if !bytes.Equal(buf[:got], msg) {
			return fmt.Errorf("cat sent back %q, want %q", buf[:got], msg)
		}
	}
	return nil
}

func (c *catHop) close() {
	c.in.Close()
	io.Copy(io.Discard, c.out)
	c.cmd.Wait()
}
