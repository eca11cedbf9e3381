package pkgbuild

import (
	"strings"
	"testing"
)

func TestWriteDebNamesEveryMissingInput(t *testing.T) {
	_, err := Package{Version: "1.0", Arch: "amd64"}.WriteDeb(t.TempDir())
	if err == nil {
		t.Fatal("WriteDeb of an empty Package succeeded")
	}
	for _, field := range []string{"Maintainer", "Binary", "ManPage", "BashCompletion", "ZshCompletion", "License", "Units"} {
		if !strings.Contains(err.Error(), "Package."+field+" is empty") {
			t.Errorf("the error does not name %s: %v", field, err)
		}
	}
}
