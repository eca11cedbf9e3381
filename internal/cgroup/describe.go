//go:build linux

package cgroup

import (
	"fmt"
	"path/filepath"
	"strings"
)

// String describes the containment in use, for the startup log and
// `wsgate --version`, e.g.
//
//	containment: cgroup v2 at /sys/fs/cgroup/unified/wsgate-12-345, limits via v1 pids,memory,cpu
//
// A nil Manager (Detect failed) describes the fallback.
func (m *Manager) String() string {
	if m == nil {
		return "containment: process groups (no delegated cgroup)"
	}
	var b strings.Builder
	b.WriteString("containment: ")
	if m.v2 != nil {
		fmt.Fprintf(&b, "cgroup v2 at %s", m.v2.instanceDir)
	} else {
		fmt.Fprintf(&b, "cgroup v1 freezer at %s", legacyDir("freezer", filepath.Join(m.v1.own["freezer"], m.name)))
	}
	var parts []string
	for _, h := range []string{"v2", "v1"} {
		var cs []string
		for _, c := range limitControllers {
			if m.via[c] == h {
				cs = append(cs, c)
			}
		}
		if len(cs) > 0 {
			parts = append(parts, fmt.Sprintf("via %s %s", h, strings.Join(cs, ",")))
		}
	}
	if len(parts) == 0 {
		b.WriteString(", no limits")
	} else {
		b.WriteString(", limits " + strings.Join(parts, " and "))
	}
	return b.String()
}

// Notes says what Detect found unusable and why (empty when everything
// was), for a debug log line.
func (m *Manager) Notes() []string {
	if m == nil {
		return nil
	}
	return m.notes
}

// Controllers maps each limit controller that can be enforced ("pids",
// "memory", "cpu") to the hierarchy that enforces it ("v2" or "v1").
func (m *Manager) Controllers() map[string]string {
	out := make(map[string]string, len(m.via))
	for c, h := range m.via {
		out[c] = h
	}
	return out
}
