// Command mkdeb builds wsgate's .deb for `make deb` from files already
// built (see the Makefile's deb target) and prints the path it wrote.
//
//	go run ./internal/pkgbuild/cmd/mkdeb -describe "$(git describe --tags --always --dirty)" \
//	    -arch amd64 -binary dist/deb/wsgate -man dist/share/wsgate.1 ... -out dist
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"wsgate/internal/pkgbuild"
)

func main() {
	var p pkgbuild.Package
	describe := flag.String("describe", "", "`git describe --tags --always --dirty` output, made into the Debian version")
	units := flag.String("units", "", "comma-separated systemd unit `FILES`")
	out := flag.String("out", "dist", "`DIR` to write wsgate_VERSION_ARCH.deb into")
	flag.StringVar(&p.Arch, "arch", "", "GOARCH the binary was built for")
	flag.StringVar(&p.Maintainer, "maintainer", "", "the package's Maintainer, \"Name <email>\"")
	flag.StringVar(&p.Binary, "binary", "", "the wsgate binary")
	flag.StringVar(&p.ManPage, "man", "", "wsgate.1, as wsgate --generate-man prints it")
	flag.StringVar(&p.BashCompletion, "bash", "", "bash completion script")
	flag.StringVar(&p.ZshCompletion, "zsh", "", "zsh completion script")
	flag.StringVar(&p.FishCompletion, "fish", "", "fish completion script (optional)")
	flag.StringVar(&p.License, "license", "LICENSE", "license text, shipped as the copyright file")
	flag.Parse()

	var err error
	if p.Version, err = pkgbuild.DebianVersion(*describe); err != nil {
		fail(err)
	}
	if *units != "" {
		p.Units = strings.Split(*units, ",")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	path, err := p.WriteDeb(*out)
	if err != nil {
		fail(err)
	}
	fmt.Println(path)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "mkdeb: %v\n", err)
	os.Exit(1)
}
