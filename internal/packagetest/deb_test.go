package packagetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testDescribe is what git describe would print for testVersion.
const testDescribe = "packagetest"

// The files the .deb installs, and the deploy/ file each must equal.
var installedFiles = map[string]string{
	"/usr/bin/wsgate":                                  "",
	"/usr/share/man/man1/wsgate.1.gz":                  "",
	"/usr/share/bash-completion/completions/wsgate":    "",
	"/usr/share/zsh/vendor-completions/_wsgate":        "",
	"/usr/share/fish/vendor_completions.d/wsgate.fish": "",
	"/usr/share/doc/wsgate/copyright":                  "LICENSE",
	"/usr/lib/systemd/system/wsgate.service":           "deploy/wsgate.service",
	"/usr/lib/systemd/system/wsgate.socket":            "deploy/wsgate.socket",
}

var debOnce struct {
	sync.Once
	path string
	err  error
}

// buildDeb builds the .deb once for the run, with the tool and the flags
// of make deb, from the test's wsgate.
func buildDeb(t *testing.T) string {
	t.Helper()
	debOnce.Do(func() {
		dir := filepath.Join(scratch, "deb")
		if debOnce.err = os.Mkdir(dir, 0o755); debOnce.err != nil {
			return
		}
		gen := func(name string, args ...string) string { return generate(t, dir, name, args...) }
		out, err := exec.Command(mkdebBinary,
			"-describe", testDescribe, "-arch", runtime.GOARCH, "-maintainer", "wsgate tests <wsgate@invalid>",
			"-binary", wsgateBinary, "-man", gen("wsgate.1", "--generate-man"),
			"-bash", gen("wsgate.bash", "--generate-completion", "bash"),
			"-zsh", gen("_wsgate", "--generate-completion", "zsh"),
			"-fish", gen("wsgate.fish", "--generate-completion", "fish"),
			"-license", filepath.Join(repoRoot, "LICENSE"),
			"-units", filepath.Join(repoRoot, "deploy/wsgate.service")+","+filepath.Join(repoRoot, "deploy/wsgate.socket"),
			"-out", dir).CombinedOutput()
		debOnce.path, debOnce.err = strings.TrimSpace(string(out)), err
		if err != nil {
			debOnce.err = fmt.Errorf("mkdeb: %v\n%s", err, out)
		}
	})
	if debOnce.err != nil {
		t.Fatal(debOnce.err)
	}
	if want := "wsgate_" + testVersion + "_" + runtime.GOARCH + ".deb"; filepath.Base(debOnce.path) != want {
		t.Fatalf("mkdeb wrote %s, want %s", debOnce.path, want)
	}
	return debOnce.path
}

func TestDebHoldsEveryFileAndNoMaintainerScript(t *testing.T) {
	dpkgDeb := needTool(t, "dpkg-deb")
	deb := buildDeb(t)
	listing := run(t, dpkgDeb, "--contents", deb)
	for path := range installedFiles {
		if !strings.Contains(listing, " ."+path+"\n") {
			t.Errorf("the .deb has no %s:\n%s", path, listing)
		}
	}
	control := t.TempDir()
	run(t, dpkgDeb, "--control", deb, control)
	for _, script := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if _, err := os.Stat(filepath.Join(control, script)); err == nil {
			t.Errorf("the .deb has a %s: installing it must enable or start nothing", script)
		}
	}
	fields := run(t, dpkgDeb, "--field", deb, "Package", "Version", "Architecture")
	if want := "Package: wsgate\nVersion: " + testVersion + "\nArchitecture: " + runtime.GOARCH + "\n"; fields != want {
		t.Errorf("control fields:\n%s\nwant:\n%s", fields, want)
	}
}

// TestDebInstallsAndRemovesCleanly installs the package into this machine
// with dpkg, checks what an operator would, and purges it. It needs root;
// CI runs as root, so there it fails rather than skip.
func TestDebInstallsAndRemovesCleanly(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("installing the .deb needs root, and CI runs as root")
		}
		t.Skip("installing the .deb needs root")
	}
	dpkg := needTool(t, "dpkg")
	man := needTool(t, "man")
	if out, err := exec.Command("dpkg-query", "--show", "--showformat", "${Version}", "wsgate").Output(); err == nil && len(out) > 0 {
		if string(out) != testVersion {
			t.Fatalf("a wsgate package %s is installed on this machine; this test would replace it: dpkg -r wsgate first", out)
		}
		run(t, dpkg, "--purge", "wsgate") // left by an earlier run that was killed
	}
	deb := buildDeb(t)
	t.Cleanup(func() { exec.Command(dpkg, "--purge", "wsgate").Run() })
	run(t, dpkg, "--install", deb)

	// The first line is the version; the second says how programs are
	// contained on this host.
	if got := run(t, "/usr/bin/wsgate", "--version"); !strings.HasPrefix(got, "wsgate "+testVersion+"\ncontainment: ") {
		t.Errorf("/usr/bin/wsgate --version = %q", got)
	}
	cmd := exec.Command(man, "-l", "/usr/share/man/man1/wsgate.1.gz")
	cmd.Env = append(os.Environ(), "MANWIDTH=100")
	page, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l wsgate.1.gz: %v\n%s", err, page)
	}
	for _, want := range []string{"wsgate - serve any stdin/stdout program over WebSocket", "--ping-interval", "--maxforks", "--sslcert"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("man -l /usr/share/man/man1/wsgate.1.gz has no %q", want)
		}
	}
	for path, source := range installedFiles {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("after dpkg -i: %v", err)
			continue
		}
		if source != "" && string(got) != readRepoFile(t, source) {
			t.Errorf("%s differs from %s", path, source)
		}
	}
	checkUnitsNotEnabled(t)
	checkInstalledUnitsVerify(t)

	run(t, dpkg, "--purge", "wsgate")
	for path := range installedFiles {
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s is still there after dpkg --purge", path)
		}
	}
	if err := exec.Command("dpkg-query", "--show", "wsgate").Run(); err == nil {
		t.Error("dpkg still knows wsgate after dpkg --purge")
	}
}

// checkUnitsNotEnabled checks that installing enabled nothing: no
// wsgate.* link in any .wants or .requires directory of /etc/systemd.
func checkUnitsNotEnabled(t *testing.T) {
	t.Helper()
	links, err := filepath.Glob("/etc/systemd/system/*/wsgate.*")
	if err != nil {
		t.Fatal(err)
	}
	if len(links) > 0 {
		t.Errorf("installing the .deb enabled units: %v", links)
	}
	if out, _ := exec.Command("systemctl", "is-enabled", "wsgate.service", "wsgate.socket").Output(); len(out) > 0 && strings.Contains(string(out), "enabled") {
		t.Errorf("systemctl is-enabled: %s", out)
	}
}

// checkInstalledUnitsVerify runs systemd-analyze verify on the installed
// units, where /usr/bin/wsgate and man:wsgate(1) exist.
func checkInstalledUnitsVerify(t *testing.T) {
	t.Helper()
	analyze := needTool(t, "systemd-analyze")
	out, err := exec.Command(analyze, "verify", "/usr/lib/systemd/system/wsgate.service", "/usr/lib/systemd/system/wsgate.socket").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify on the installed units: %v\n%s", err, out)
	}
}
