package packagetest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnitsPassSystemdAnalyzeVerify checks deploy/'s units with systemd's
// own checker. Until the .deb is installed there is no /usr/bin/wsgate, so
// the copies checked here run the test's wsgate instead. verify exits 0 on
// a value it cannot parse and only warns, so any output is a failure.
func TestUnitsPassSystemdAnalyzeVerify(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	dir := t.TempDir()
	var units []string
	for _, name := range []string{"wsgate.service", "wsgate.socket"} {
		text := strings.ReplaceAll(readRepoFile(t, "deploy/"+name), "/usr/bin/wsgate", wsgateBinary)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// unitSettings reads a unit file's KEY=VALUE lines, comments left out.
func unitSettings(t *testing.T, path string) map[string]string {
	t.Helper()
	settings := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readRepoFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = v
		}
	}
	return settings
}

// TestServiceLetsWsgateRunItsProgramsAndStopThemItself checks the settings
// that wsgate's process handling depends on.
func TestServiceLetsWsgateRunItsProgramsAndStopThemItself(t *testing.T) {
	s := unitSettings(t, "deploy/wsgate.service")
	for key, want := range map[string]string{
		"Delegate":         "yes",   // wsgate owns its cgroup subtree
		"KillMode":         "mixed", // SIGTERM to wsgate alone, which stops its programs in order
		"ExecReload":       "/bin/kill -HUP $MAINPID",
		"NoNewPrivileges":  "yes",
		"ProtectSystem":    "strict",
		"ProtectHome":      "yes",
		"PrivateTmp":       "yes",
		"DynamicUser":      "yes",
		"LimitNOFILE":      "65536",
		"RestrictSUIDSGID": "yes",
	} {
		if s[key] != want {
			t.Errorf("wsgate.service: %s=%s, want %s", key, s[key], want)
		}
	}
	// A read-only /sys/fs/cgroup would take the delegated subtree away.
	if s["ProtectControlGroups"] == "yes" {
		t.Error("wsgate.service: ProtectControlGroups=yes makes the delegated cgroup read-only")
	}
	if !strings.HasPrefix(s["ExecStart"], "/usr/bin/wsgate ") {
		t.Errorf("wsgate.service: ExecStart=%s, want /usr/bin/wsgate and a sample program", s["ExecStart"])
	}
	if sock := unitSettings(t, "deploy/wsgate.socket"); sock["ListenStream"] == "" || sock["Accept"] != "no" {
		t.Errorf("wsgate.socket: ListenStream=%q Accept=%q, want a port and Accept=no", sock["ListenStream"], sock["Accept"])
	}
}
