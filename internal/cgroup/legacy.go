//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"

	"github.com/containerd/cgroups/v3/cgroup1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// legacy is this instance's part of the cgroup v1 hierarchies: the same
// layout as in v2 (<own>/wsgate-<pid>-<t>/conn-<n>), repeated in each
// subsystem in use, where <own> may differ from one subsystem to the next.
// v1 has no "no internal processes" rule, so wsgate never moves there.
type legacy struct {
	own      map[cgroup1.Name]string // wsgate's cgroup in each subsystem in use
	names    []cgroup1.Name          // the subsystems in use
	instance string                  // the instance directory's name
	// memswFile is v1 memory's memory+swap limit file, present only
	// where the kernel accounts swap.
	memswFile string
}

// setUpLegacy creates the instance directory in each wanted subsystem
// (pids, memory, cpu, freezer) that wsgate may write to; nil if none.
func setUpLegacy(name string, want []string, notes *[]string) *legacy {
	if len(want) == 0 {
		return nil
	}
	ownPath := cgroup1.NestedPath("")
	l := &legacy{own: make(map[cgroup1.Name]string), instance: name}
	for _, w := range want {
		n := cgroup1.Name(w)
		own, err := ownPath(n)
		if err != nil {
			continue // subsystem not mounted: nothing to say
		}
		_, err = cgroup1.New(cgroup1.StaticPath(path.Join(own, name)), &specs.LinuxResources{},
			cgroup1.WithHierarchy(subsystems(n)))
		if err != nil {
			*notes = append(*notes, fmt.Sprintf("v1 %s at %s not writable: %v", n, own, err))
			continue
		}
		l.own[n] = own
		l.names = append(l.names, n)
		if n == cgroup1.Memory {
			l.memswFile = filepath.Join(legacyDir(n, own), "memory.memsw.limit_in_bytes")
		}
	}
	if len(l.names) == 0 {
		return nil
	}
	return l
}

// subsystems is a cgroup1.Hierarchy holding only the named subsystems of
// the host's v1 mounts.
func subsystems(names ...cgroup1.Name) cgroup1.Hierarchy {
	return func() ([]cgroup1.Subsystem, error) {
		all, err := cgroup1.Default()
		if err != nil {
			return nil, err
		}
		var out []cgroup1.Subsystem
		for _, s := range all {
			if slices.Contains(names, s.Name()) {
				out = append(out, s)
			}
		}
		return out, nil
	}
}

// legacyDir is the directory of cgroup p in subsystem n.
func legacyDir(n cgroup1.Name, p string) string {
	subs, err := subsystems(n)()
	if err != nil || len(subs) == 0 {
		return ""
	}
	return subs[0].(interface{ Path(string) string }).Path(p)
}

// path maps each subsystem to rel below wsgate's own cgroup in it: the
// library's cgroup1.NestedPath re-reads /proc/self/cgroup and mountinfo
// on every call, this reads a map.
func (l *legacy) path(rel string) cgroup1.Path {
	return func(n cgroup1.Name) (string, error) {
		own, ok := l.own[n]
		if !ok {
			return "", cgroup1.ErrControllerNotActive
		}
		return path.Join(own, rel), nil
	}
}

// limitControllers lists the limit controllers v1 provides.
func (l *legacy) limitControllers() []string {
	var out []string
	for _, c := range limitControllers {
		if slices.Contains(l.names, cgroup1.Name(c)) {
			out = append(out, c)
		}
	}
	return out
}

// canKill says whether the freezer is in use, to stop a group as a whole.
func (l *legacy) canKill() bool {
	return slices.Contains(l.names, cgroup1.Freezer)
}

// tearDown removes the instance directory from every subsystem.
func (l *legacy) tearDown() error {
	var errs []error
	for _, n := range l.names {
		errs = append(errs, removeLegacy(n, l.path(l.instance)))
	}
	return errors.Join(errs...)
}
