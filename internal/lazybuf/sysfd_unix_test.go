//go:build unix

package lazybuf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// countWrites counts the Writers' own writes of descriptors, and those
// that found no room, until the test ends.
func countWrites(t *testing.T) (calls, full *int) {
	calls, full = new(int), new(int)
	write := writeFd
	writeFd = func(fd uintptr, p []byte) (int, error) {
		*calls++
		n, err := write(fd, p)
		if err == syscall.EAGAIN {
			*full++
		}
		return n, err
	}
	t.Cleanup(func() { writeFd = write })
	return calls, full
}

// A Writer over a pipe writes the descriptor itself, waits for room when
// the pipe is full, and delivers every byte in order.
func TestWriterWritesAPipeItselfAndWaitsForRoom(t *testing.T) {
	calls, full := countWrites(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: many pipefuls
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	bw := NewWriter(w, NewPool(64<<10))
	for p := want; len(p) > 0; p = p[min(len(p), 1000):] {
		if _, err := bw.Write(p[:min(len(p), 1000)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the reader got %d bytes, not the %d written in order", len(b), len(want))
	}
	if *calls == 0 || *full == 0 {
		t.Fatalf("%d writes of the descriptor, %d of them into a full pipe; want the Writer to write it itself and to wait for room", *calls, *full)
	}
}

// A write to a pipe whose reader is gone fails with EPIPE, as dst.Write
// would.
func TestWriterReportsABrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	bw := NewWriter(w, NewPool(4096))
	bw.Write([]byte("nobody reads this\n"))
	if err := bw.Flush(); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Flush to a pipe with no reader: %v, want EPIPE", err)
	}
}

// The descriptor's write deadline ends a wait for room: that is how a
// write to a program that does not read its input is aborted.
func TestWriterWaitForRoomEndsAtTheDeadline(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	bw := NewWriter(w, NewPool(64<<10))
	big := make([]byte, 4<<20) // more than any pipe holds
	done := make(chan error, 1)
	go func() {
		_, err := bw.Write(big)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write into a full pipe past its deadline: %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write into a full pipe did not end at its deadline")
	}
}

// A blocking descriptor is read and written through its file: a read or
// write of it that waited would hold the goroutine's P (sysfd_unix.go).
func TestBlockingDescriptorIsNotUsedDirectly(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	defer r.Close()
	defer w.Close()
	if br := NewReader(r, NewPool(4096)); br.raw != nil {
		t.Error("a Reader reads a blocking pipe's descriptor itself")
	}
	if bw := NewWriter(w, NewPool(4096)); bw.raw != nil {
		t.Error("a Writer writes a blocking pipe's descriptor itself")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if NewReader(pr, NewPool(4096)).raw == nil || NewWriter(pw, NewPool(4096)).raw == nil {
		t.Error("a non-blocking pipe from os.Pipe is not used directly")
	}
}
