// Package packagetest tests what wsgate ships besides its binary, against
// the real tools that use it: the .deb installed with dpkg, the man page
// rendered by man, the completions run by bash and zsh, the systemd units
// checked by systemd-analyze, deploy/nginx.conf and deploy/haproxy.cfg
// proxying to real wsgate instances (echo, the client's address, a
// drain), and the monitoring files of deploy/ against a real wsgate's
// /metrics.
// It holds only tests.
//
// The tools come from `make test-deps`. Without one of them a test skips,
// except under CI=true, where it fails.
package packagetest
