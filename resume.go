package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// resumeFromFlags reads --resume and --resume-buffer.
func resumeFromFlags(c *cli.Context) (time.Duration, int64, error) {
	d := c.Duration("resume")
	s := c.String("resume-buffer")
	size, err := units.RAMInBytes(s)
	if err != nil || size <= 0 {
		return 0, 0, fmt.Errorf("--resume-buffer %q: want a size such as 65536, 64K or 1M", s)
	}
	if c.IsSet("resume-buffer") && d == 0 {
		return 0, 0, errors.New("--resume-buffer goes with --resume DURATION")
	}
	return d, size, nil
}
