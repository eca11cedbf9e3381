//go:build linux

package cgroup

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Limits bound what one connection's programs may use together. A zero
// field sets no limit.
type Limits struct {
	// Pids is the most processes and threads at once: a fork beyond it
	// fails with EAGAIN (pids.max).
	Pids int64
	// MemoryBytes is the most memory the group may use; past it the
	// kernel reclaims and then the OOM killer ends a process of the group
	// (memory.max, v1 memory.limit_in_bytes). Swap is not a way around it:
	// the group's swap limit is set to none where swap is accounted.
	MemoryBytes int64
	// CPU is a share of one core, 0.5 for half of one; 2 allows two
	// (cpu.max, v1 cpu.cfs_quota_us over cpu.cfs_period_us).
	CPU float64
}

// cpuPeriodMicros is the period a CPU quota is measured over: the
// kernel's default, 100 ms.
const cpuPeriodMicros = 100_000

// minCPUQuotaMicros is the smallest quota the kernel accepts, 1 ms.
const minCPUQuotaMicros = 1000

func (l Limits) validate() error {
	if l.Pids < 0 || l.MemoryBytes < 0 || l.CPU < 0 {
		return errors.New("cgroup: limits must not be negative")
	}
	if l.CPU > 0 && l.cpuQuota() < minCPUQuotaMicros {
		return errors.New("cgroup: a CPU limit below 0.01 of a core cannot be enforced")
	}
	return nil
}

// controllers names the controllers l needs.
func (l Limits) controllers() []string {
	var c []string
	if l.Pids > 0 {
		c = append(c, "pids")
	}
	if l.MemoryBytes > 0 {
		c = append(c, "memory")
	}
	if l.CPU > 0 {
		c = append(c, "cpu")
	}
	return c
}

func (l Limits) cpuQuota() int64 { return int64(l.CPU * cpuPeriodMicros) }

// unifiedResources are the v2 settings for the limits in l that v2
// enforces (via), for the group directory dir.
func (l Limits) unifiedResources(dir string, via map[string]string) *cgroup2.Resources {
	r := &cgroup2.Resources{}
	if l.Pids > 0 && via["pids"] == "v2" {
		r.Pids = &cgroup2.Pids{Max: l.Pids}
	}
	if l.MemoryBytes > 0 && via["memory"] == "v2" {
		r.Memory = &cgroup2.Memory{Max: &l.MemoryBytes}
		if exists(filepath.Join(dir, "memory.swap.max")) {
			var none int64
			r.Memory.Swap = &none
		}
	}
	if l.CPU > 0 && via["cpu"] == "v2" {
		quota, period := l.cpuQuota(), uint64(cpuPeriodMicros)
		r.CPU = &cgroup2.CPU{Max: cgroup2.NewCPUMax(&quota, &period)}
	}
	return r
}

// legacyResources are the v1 settings for l. Settings for subsystems the
// group does not use in v1 are ignored by the library.
func (l Limits) legacyResources(memswFile string) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if l.Pids > 0 {
		r.Pids = &specs.LinuxPids{Limit: &l.Pids}
	}
	if l.MemoryBytes > 0 {
		r.Memory = &specs.LinuxMemory{Limit: &l.MemoryBytes}
		if exists(memswFile) {
			// memory+swap at the memory limit: no swap on top.
			r.Memory.Swap = &l.MemoryBytes
		}
	}
	if l.CPU > 0 {
		quota, period := l.cpuQuota(), uint64(cpuPeriodMicros)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	return r
}

func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}
