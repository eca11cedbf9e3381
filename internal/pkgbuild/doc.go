// Package pkgbuild builds wsgate's Debian package with nfpm, from files
// that are already built: the binary, the man page and completion scripts
// that the binary printed (wsgate --generate-man, --generate-completion),
// and the systemd units of deploy/.
//
// It backs `make deb` through cmd/mkdeb, and the packaging tests, which
// build a .deb the same way and install it:
//
//	v, err := pkgbuild.DebianVersion("v1.2.0-3-g1a2b3c4") // "1.2.0+3.g1a2b3c4"
//	p := pkgbuild.Package{Version: v, Arch: "amd64", Binary: "dist/deb/wsgate", ...}
//	path, err := p.WriteDeb("dist") // dist/wsgate_1.2.0+3.g1a2b3c4_amd64.deb
package pkgbuild
