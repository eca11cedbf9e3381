package main

// The end-to-end scenarios: every testscripts/*.txtar runs this test binary
// as the wsgate program, with the commands of internal/scriptcmd.

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"wsgate/internal/scriptcmd"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"wsgate": main, guardianName: main})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, scriptcmd.Params(t, "testscripts"))
}
