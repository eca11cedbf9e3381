package packagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpFlags returns the long flags that wsgate --help lists.
func helpFlags(t *testing.T) []string {
	t.Helper()
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(run(t, wsgateBinary, "--help"), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 10 {
		t.Fatalf("wsgate --help lists only %d flags: %v", len(flags), flags)
	}
	return flags
}

func TestManPageRendersEveryFlagOfHelp(t *testing.T) {
	man := needTool(t, "man")
	page := generate(t, t.TempDir(), "wsgate.1", "--generate-man")
	cmd := exec.Command(man, "-l", page)
	cmd.Env = append(os.Environ(), "MANWIDTH=100", "MAN_KEEP_FORMATTING=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("man -l wsgate.1: %v\n%s", err, out)
	}
	rendered := string(out)
	for _, want := range []string{"NAME", "wsgate - serve any stdin/stdout program over WebSocket", "SYNOPSIS", "OPTIONS", "SIGNALS", "SIGHUP"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("the rendered man page has no %q", want)
		}
	}
	for _, flag := range helpFlags(t) {
		if !strings.Contains(rendered, "--"+flag) {
			t.Errorf("--help lists --%s, the man page does not", flag)
		}
	}
	if t.Failed() {
		t.Logf("man -l wsgate.1:\n%s", rendered)
	}
}

func TestPackagingFlagsAreHiddenFromHelp(t *testing.T) {
	for _, flag := range helpFlags(t) {
		if strings.HasPrefix(flag, "generate") {
			t.Errorf("--help lists --%s, a flag for packagers only", flag)
		}
	}
}

func TestGenerateCompletionRefusesAnUnknownShell(t *testing.T) {
	out, err := exec.Command(wsgateBinary, "--generate-completion", "tcsh").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "use bash, zsh or fish") {
		t.Errorf("wsgate --generate-completion tcsh: %v, %q; want a failure that names the shells", err, out)
	}
}

// completionPath returns a $PATH where the test's wsgate is "wsgate", as
// the completion scripts call it.
func completionPath(t *testing.T) string {
	return filepath.Dir(wsgateBinary) + string(os.PathListSeparator) + os.Getenv("PATH")
}

// complete runs a shell snippet that sources a completion script and prints
// its completions for the word being completed, one a line.
func complete(t *testing.T, shell string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(shell, args...)
	cmd.Env = append(os.Environ(), "PATH="+completionPath(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	lines := strings.Fields(string(out))
	slices.Sort(lines)
	return lines
}

func TestBashCompletionOffersTheFlagsThatMatch(t *testing.T) {
	bash := needTool(t, "bash")
	script := generate(t, t.TempDir(), "wsgate.bash", "--generate-completion", "bash")
	for word, want := range map[string][]string{
		"--ping": {"--ping-interval", "--ping-timeout", "--pingms"},
		"--tls":  {"--tls-cert", "--tls-key"}, // aliases too
		"--gen":  nil,                         // the hidden packaging flags are not offered
		"./ech":  nil,                         // not a flag: bash falls back to file names
	} {
		got := complete(t, bash, "-c", `source "$1"; COMP_WORDS=(wsgate --port 8080 "$2"); COMP_CWORD=3; _wsgate_complete; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, word)
		if !slices.Equal(got, want) {
			t.Errorf("bash completes %q to %q, want %q", word, got, want)
		}
	}
}

// TestZshCompletionOffersTheFlagsThatMatch runs _wsgate as zsh's completion
// system would, as the body of a function with $words and $CURRENT set,
// with compadd and _files replaced by functions that print what they get.
func TestZshCompletionOffersTheFlagsThatMatch(t *testing.T) {
	zsh := needTool(t, "zsh")
	script := generate(t, t.TempDir(), "_wsgate", "--generate-completion", "zsh")
	if !strings.HasPrefix(readFile(t, script), "#compdef wsgate\n") {
		t.Fatalf("_wsgate does not start with #compdef wsgate: compinit would not load it")
	}
	for word, want := range map[string][]string{
		"--max": {"--max-lifetime", "--max-message-size", "--maxforks", "--maxframesize"},
		"--gen": nil,
		"./ech": {"<files>"},
	} {
		got := complete(t, zsh, "-f", "-c", `
			compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
			_files() { print '<files>' }
			_wsgate() { local -a words=(wsgate --port 8080 $2); local CURRENT=4; source $1 }
			_wsgate "$@"`, "zsh", script, word)
		if !slices.Equal(got, want) {
			t.Errorf("zsh completes %q to %q, want %q", word, got, want)
		}
	}
}

func TestFishCompletionListsEveryFlagOfHelp(t *testing.T) {
	script := run(t, wsgateBinary, "--generate-completion", "fish")
	for _, flag := range helpFlags(t) {
		if !strings.Contains(script, "complete -c wsgate") || !regexp.MustCompile(`-l `+regexp.QuoteMeta(flag)+`\b`).MatchString(script) {
			t.Errorf("the fish completion does not offer --%s", flag)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
