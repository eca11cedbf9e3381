package process

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPipeSize(t *testing.T) {
	pipeSize := func(f *os.File) int {
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		rc.Control(func(fd uintptr) { size, _ = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
		return size
	}
	for _, want := range []int{0, 256 << 10} {
		c, err := Start(Config{Path: "/bin/cat", Args: []string{"cat"}, PipeSize: want})
		if err != nil {
			t.Fatal(err)
		}
		in, out := pipeSize(c.Stdin), pipeSize(c.Stdout)
		c.Stop(0, 0)
		c.Wait()
		if want == 0 {
			want = 64 << 10 // the kernel's default
		}
		if in != want || out != want {
			t.Errorf("PipeSize %d: stdin pipe %d, stdout pipe %d bytes", want, in, out)
		}
	}
}
