package gateway

import (
	"slices"
	"strings"
)

// localeVars are the variables that choose the character set of a program,
// in the order in which they take effect (POSIX: LC_ALL wins over LC_CTYPE,
// which wins over LANG).
var localeVars = []string{"LC_ALL", "LC_CTYPE", "LANG"}

// fallbackLocale is the UTF-8 locale that glibc (2.35 and later), musl and
// every Debian-based system have without any locale package installed.
const fallbackLocale = "C.UTF-8"

// noLocale is the --locale value that sets no locale variable at all.
const noLocale = "none"

// programLocale is what a program's environment gets for its locale, as
// NAME=VALUE entries (the --locale setting):
//
//   - --locale none: nothing; --locale LOCALE: LANG=LOCALE, in every mode;
//   - by default, nothing except on a terminal (--pty, --terminal): there
//     readline, vi and Python read keys and print characters by the locale,
//     and without one they take the bytes of "é" for two Meta keys. A
//     terminal program gets wsgate's own LC_ALL, LC_CTYPE and LANG when
//     the one in effect names a UTF-8 locale, else LANG=C.UTF-8;
//   - a locale variable named in --passenv is the user's choice: then the
//     default adds nothing.
//
// getenv reads wsgate's own environment.
func programLocale(setting string, onTerminal bool, passEnv []string, getenv func(string) string) []string {
	switch {
	case setting == noLocale:
		return nil
	case setting != "":
		return []string{"LANG=" + setting}
	case !onTerminal:
		return nil
	}
	for _, name := range localeVars {
		if slices.Contains(passEnv, name) {
			return nil
		}
	}
	var own []string
	inEffect := ""
	for _, name := range localeVars {
		if v := getenv(name); v != "" {
			own = append(own, name+"="+v)
			if inEffect == "" {
				inEffect = v
			}
		}
	}
	if isUTF8Locale(inEffect) {
		return own
	}
	return []string{"LANG=" + fallbackLocale}
}

// isUTF8Locale reports whether a locale name has the UTF-8 codeset
// ("en_US.UTF-8", "C.utf8", "de_DE.UTF-8@euro").
func isUTF8Locale(name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(name, ".utf-8") || strings.Contains(name, ".utf8")
}
