package gateway

import (
	"slices"
	"testing"
)

func TestProgramLocale(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(name string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	defaultPassEnv := []string{"PATH", "LD_LIBRARY_PATH"}
	for _, tc := range []struct {
		name       string
		setting    string
		onTerminal bool
		passEnv    []string
		getenv     func(string) string
		want       []string
	}{
		{"a terminal without a locale gets C.UTF-8", "", true, defaultPassEnv, env(), []string{"LANG=C.UTF-8"}},
		{"a terminal gets wsgate's own UTF-8 locale", "", true, defaultPassEnv,
			env("LANG", "fr_FR.UTF-8", "LC_CTYPE", "de_DE.utf8"), []string{"LC_CTYPE=de_DE.utf8", "LANG=fr_FR.UTF-8"}},
		{"LC_ALL in effect is what counts", "", true, defaultPassEnv,
			env("LC_ALL", "C", "LANG", "en_US.UTF-8"), []string{"LANG=C.UTF-8"}},
		{"a non-UTF-8 LANG is replaced", "", true, defaultPassEnv,
			env("LANG", "en_US.ISO-8859-1"), []string{"LANG=C.UTF-8"}},
		{"a locale variable in --passenv is the user's choice", "", true, []string{"PATH", "LANG"},
			env("LANG", "C"), nil},
		{"line mode gets nothing by default", "", false, defaultPassEnv, env("LANG", "en_US.UTF-8"), nil},
		{"--locale sets LANG in every mode", "sv_SE.UTF-8", false, defaultPassEnv, env(), []string{"LANG=sv_SE.UTF-8"}},
		{"--locale wins over wsgate's own on a terminal", "POSIX", true, defaultPassEnv,
			env("LANG", "en_US.UTF-8"), []string{"LANG=POSIX"}},
		{"--locale none sets nothing, even on a terminal", "none", true, defaultPassEnv, env(), nil},
	} {
		got := programLocale(tc.setting, tc.onTerminal, tc.passEnv, tc.getenv)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
