package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryFlag keeps README.md's flag reference complete:
// every flag of wsgate --help is named there.
func TestReadmeDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flags() {
		for _, name := range f.Names() {
			if !strings.Contains(string(readme), "`--"+name+"`") && !strings.Contains(string(readme), "`--"+name+" ") && !strings.Contains(string(readme), "`--"+name+",") {
				t.Errorf("README.md does not document --%s", name)
			}
		}
	}
}
