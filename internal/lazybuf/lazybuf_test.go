package lazybuf

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// chunkedReader returns its data in reads of the given sizes, in turn.
type chunkedReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), c.sizes[c.i%len(c.sizes)])
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func randomLines(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for range n {
		b.Write(bytes.Repeat([]byte{'a' + byte(r.Intn(26))}, r.Intn(700)))
		b.WriteByte('\n')
	}
	b.WriteString("tail without newline")
	return b.Bytes()
}

func TestReadSliceReassemblesEveryLine(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	data := randomLines(r, 500)
	for _, sizes := range [][]int{{1}, {7, 300, 2}, {255, 256, 257}, {4096}, {1 << 20}} {
		b := NewReader(&chunkedReader{data: data, sizes: sizes}, NewPool(1024))
		var got bytes.Buffer
		for {
			line, err := b.ReadSlice('\n')
			got.Write(line)
			if err == io.EOF {
				break
			}
			if err != nil && err != ErrBufferFull {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("reads of %v: reassembled %d bytes differ from the %d sent", sizes, got.Len(), len(data))
		}
	}
}

func TestReadSliceBufferFull(t *testing.T) {
	b := NewReader(bytes.NewReader(bytes.Repeat([]byte("x"), 3000)), NewPool(1024))
	line, err := b.ReadSlice('\n')
	if err != ErrBufferFull || len(line) != 1024 {
		t.Fatalf("got %d bytes, %v; want 1024 bytes, ErrBufferFull", len(line), err)
	}
}

func TestPeekDiscardNextRead(t *testing.T) {
	data := make([]byte, 10000)
	rand.New(rand.NewSource(2)).Read(data)
	b := NewReader(iotest.OneByteReader(bytes.NewReader(data)), NewPool(4096))
	var got []byte
	p, err := b.Peek(300) // more than the small buffer
	if err != nil || !bytes.Equal(p, data[:300]) {
		t.Fatalf("Peek(300) = %d bytes, %v", len(p), err)
	}
	b.Discard(100)
	got = append(got, data[:100]...)
	p, _ = b.Next(50)
	got = append(got, p...)
	buf := make([]byte, 5000) // larger than the pool's buffers
	for {
		n, err := b.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d sent", len(got), len(data))
	}
	if _, err := b.Peek(5000); err != ErrBufferFull {
		t.Fatalf("Peek beyond the pool's size: %v, want ErrBufferFull", err)
	}
}

func TestIdleReaderGivesTheLargeBufferBack(t *testing.T) {
	// A burst (one large read after the small buffer filled), then a
	// short line on its own.
	src := io.MultiReader(bytes.NewReader(append(bytes.Repeat([]byte("y"), 5000), '\n')), bytes.NewReader([]byte("short\n")))
	b := NewReader(src, NewPool(8192))
	if line, _ := b.ReadSlice('\n'); len(line) != 5001 || !b.full() {
		t.Fatalf("a 5001-byte line: got %d bytes, large buffer %v", len(line), b.full())
	}
	if line, _ := b.ReadSlice('\n'); string(line) != "short\n" {
		t.Fatalf("got %q", line)
	}
	// The next read would wait for src (here it meets EOF): that is when
	// an idle reader must no longer hold the large buffer.
	if _, err := b.ReadSlice('\n'); err != io.EOF {
		t.Fatalf("got %v, want EOF", err)
	}
	if b.lent {
		t.Fatal("waiting for src after a small read, the reader still holds a pooled buffer")
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestWriterBatchesAndReleases(t *testing.T) {
	dst := &countingWriter{}
	w := NewWriter(dst, NewPool(1024))
	for range 10 {
		w.Write([]byte("0123456789"))
	}
	if dst.writes != 0 || w.n != 100 {
		t.Fatalf("before Flush: %d writes, %d buffered", dst.writes, w.n)
	}
	w.Flush()
	if dst.writes != 1 || dst.Len() != 100 || w.buf != nil {
		t.Fatalf("after Flush: %d writes of %d bytes, buffer held %v", dst.writes, dst.Len(), w.buf != nil)
	}
	big := bytes.Repeat([]byte("z"), 3000)
	w.Write(big) // larger than the buffer and nothing buffered: straight through
	if dst.writes != 2 || w.buf != nil {
		t.Fatalf("a large write: %d writes, buffer held %v", dst.writes, w.buf != nil)
	}
	w.Write([]byte("ab"))
	w.Write(big) // fills the buffer, flushes it, keeps the rest
	w.Flush()
	if want := 100 + 3000 + 2 + 3000; dst.Len() != want {
		t.Fatalf("wrote %d bytes, want %d", dst.Len(), want)
	}
}

func TestWriterKeepsTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	w := NewWriter(errWriter{boom}, NewPool(16))
	w.Write([]byte("x"))
	if err := w.Flush(); err != boom {
		t.Fatalf("Flush: %v", err)
	}
	if _, err := w.Write([]byte("y")); err != boom {
		t.Fatalf("Write after a failure: %v", err)
	}
}

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

func TestSteadyStreamUsesTheLargeBuffer(t *testing.T) {
	// A source that always has plenty: after the first read fills the
	// small buffer, every read must go to the large one, not 256 bytes at a
	// time.
	src := &chunkedReader{data: make([]byte, 1<<20), sizes: []int{1 << 20}}
	b := NewReader(src, NewPool(64<<10))
	var sizes []int
	for range 5 {
		p, err := b.Next(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p))
	}
	if sizes[0] != smallSize || sizes[1] != 64<<10 || sizes[4] != 64<<10 {
		t.Fatalf("read sizes %v, want %d then %d each", sizes, smallSize, 64<<10)
	}
}

func TestDescriptorReaderWaitsEmptyHanded(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := NewReader(r, NewPool(4096))
	if b.raw == nil {
		t.Fatal("a pipe should be read through its descriptor")
	}
	emptyWaits := 0
	b.OnWait = func() {
		// A partial line must be kept while waiting; an empty buffer
		// must not keep the large buffer.
		if b.Buffered() == 0 {
			emptyWaits++
			if b.lent {
				t.Error("about to wait with nothing buffered but a pooled buffer held")
			}
		}
	}
	go func() {
		w.Write(bytes.Repeat([]byte("x"), 3000))
		w.Write([]byte("\n"))
		time.Sleep(50 * time.Millisecond) // the reader waits here
		w.Write([]byte("second\n"))
		w.Close()
	}()
	line, err := b.ReadSlice('\n')
	if len(line) != 3001 || err != nil {
		t.Fatalf("first line: %d bytes, %v", len(line), err)
	}
	if line, err := b.ReadSlice('\n'); string(line) != "second\n" || err != nil {
		t.Fatalf("second line: %q, %v", line, err)
	}
	if _, err := b.ReadSlice('\n'); err != io.EOF {
		t.Fatalf("at the end: %v, want EOF", err)
	}
	if emptyWaits == 0 {
		t.Fatal("OnWait never ran with an empty buffer, though the reader waited between the lines")
	}
}

func TestDescriptorReaderClosedUnderIt(t *testing.T) {
	// A read of a descriptor that was closed meanwhile must report the
	// error and no bytes: not the count of the read before.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := NewReader(r, NewPool(4096))
	w.Write([]byte("0123456789"))
	if p, err := b.Next(100); len(p) != 10 || err != nil {
		t.Fatalf("first read: %q, %v", p, err)
	}
	r.Close()
	if p, err := b.Next(100); len(p) != 0 || err == nil {
		t.Fatalf("after Close: %q, %v; want no bytes and an error", p, err)
	}
}

func TestDescriptorReaderSizesEachBurst(t *testing.T) {
	// Each time the reader is about to wait, the next burst is written to
	// the pipe; the buffer each read uses is recorded.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pool := NewPool(64 << 10)
	b := NewReader(r, pool)
	bursts := [][]byte{[]byte("hello"), bytes.Repeat([]byte("x"), 20000), []byte("y"), []byte("z")}
	b.OnWait = func() {
		if len(bursts) > 0 && b.Buffered() == 0 {
			w.Write(bursts[0])
			bursts = bursts[1:]
		}
	}
	read := func(n int) (sizes []int) {
		for got := 0; got < n; {
			p, err := b.Next(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			got += len(p)
			sizes = append(sizes, len(b.buf))
		}
		return sizes
	}
	if sizes := read(5); len(sizes) != 1 || sizes[0] != firstSize {
		t.Errorf("a 5-byte burst read into buffers of %v bytes, want one of %d", sizes, firstSize)
	}
	if sizes := read(20000); len(sizes) < 2 || sizes[0] != firstSize || sizes[1] != 64<<10 {
		t.Errorf("a 20000-byte burst read into buffers of %v bytes, want %d, then %d", sizes, firstSize, 64<<10)
	}
	if sizes := read(1); sizes[0] != 64<<10 {
		t.Errorf("after a large burst, the next read into a buffer of %d bytes, want %d", sizes[0], 64<<10)
	}
	if sizes := read(1); sizes[0] != firstSize {
		t.Errorf("after a 1-byte burst, the next read into a buffer of %d bytes, want %d", sizes[0], firstSize)
	}
}

func TestWriterOutgrowsItsFirstBuffer(t *testing.T) {
	dst := &countingWriter{}
	w := NewWriter(dst, NewPool(64<<10))
	w.Write([]byte("short"))
	if len(w.buf) != firstSize {
		t.Fatalf("a short write took a buffer of %d bytes, want %d", len(w.buf), firstSize)
	}
	var want bytes.Buffer
	want.WriteString("short")
	for i := range 100 { // 10,000 bytes in all: more than the first buffer
		p := bytes.Repeat([]byte{'a' + byte(i%26)}, 100)
		w.Write(p)
		want.Write(p)
	}
	if len(w.buf) != 64<<10 || dst.writes != 0 {
		t.Fatalf("10 KB buffered: buffer of %d bytes, %d writes; want %d bytes, none", len(w.buf), dst.writes, 64<<10)
	}
	w.Flush()
	if dst.writes != 1 || !bytes.Equal(dst.Bytes(), want.Bytes()) || w.buf != nil {
		t.Fatalf("after Flush: %d writes, content equal %v, buffer held %v", dst.writes, bytes.Equal(dst.Bytes(), want.Bytes()), w.buf != nil)
	}
}

func TestStartFullReadsABurstWhole(t *testing.T) {
	b, w := pipeReader(t, NewPool(64<<10))
	b.StartFull = true
	w.Write(bytes.Repeat([]byte("x"), 20000))
	if p, err := b.Next(1 << 20); len(p) != 20000 || err != nil {
		t.Fatalf("20000 bytes written at once: the first read returned %d bytes, %v; want all of them", len(p), err)
	}
}

func TestDescriptorReaderSkipsTheReadThatWouldFindNothing(t *testing.T) {
	// An echo: each line is answered, in OnWait, by the next one. A read
	// that returned less than it was offered emptied the pipe, so the
	// Reader runs OnWait before reading again instead of after a read
	// that returns EAGAIN.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	empty := 0
	read := readFd
	readFd = func(fd uintptr, p []byte) (int, error) {
		n, err := read(fd, p)
		if err == syscall.EAGAIN {
			empty++
		}
		return n, err
	}
	defer func() { readFd = read }()
	b := NewReader(r, NewPool(4096))
	const lines = 20
	sent := 1
	w.Write([]byte("line\n"))
	b.OnWait = func() {
		if sent < lines && b.Buffered() == 0 {
			sent++
			w.Write([]byte("line\n"))
		}
	}
	for i := range lines {
		if line, err := b.ReadSlice('\n'); string(line) != "line\n" || err != nil {
			t.Fatalf("line %d: %q, %v", i, line, err)
		}
	}
	if empty != 0 {
		t.Fatalf("%d reads found the pipe empty for %d lines answered in OnWait; want none", empty, lines)
	}
}

// Idle names the descriptor only when a read would wait on it: nothing
// buffered, no error seen; and it gives the buffer back.
func TestIdleNamesTheDescriptorOnlyWhenAReadWouldWait(t *testing.T) {
	b, w := pipeReader(t, NewPool(64<<10))
	if b.Idle() == nil {
		t.Fatal("a Reader of an empty pipe is not idle")
	}
	w.Write([]byte("ab"))
	b.Fill()
	if b.Idle() != nil {
		t.Fatal("a Reader with data buffered says it is idle")
	}
	b.Discard(2)
	if b.Idle() == nil || b.lent {
		t.Fatalf("a drained Reader: idle %v, holds its buffer %v", b.Idle() != nil, b.lent)
	}
	w.Close()
	b.Fill() // end of file
	if b.Idle() != nil {
		t.Fatal("a Reader at the end of its input says it is idle")
	}
}

// pipeReader is a Reader of a new pipe's read end, with buffers from pool,
// and the pipe's write end; both ends are closed when the test ends.
func pipeReader(t *testing.T, pool *Pool) (*Reader, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return NewReader(r, pool), w
}
