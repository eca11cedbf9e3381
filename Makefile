# wsgate's build. `make run` and `make test` do all the set-up on a fresh clone.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# The browser tests (internal/e2e/browser_test.go) drive this Chromium (chromiumPath in
# internal/e2e/browser_helpers_test.go); under CI=true they fail without it, elsewhere
# they skip.
CHROMIUM := /usr/bin/chromium
# apt-get needs root: use sudo when we are not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build run test test-deps test-deps-debian cross conformance fuzz vet staticcheck fmt-check clean man deb dist

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o wsgate .

# Starts wsgate on :8080 with the echo sample: open http://localhost:8080
run: build
	./wsgate --port 8080 ./testscripts/echo.pl

test: test-deps xterm-check fmt-check vet staticcheck cross
	$(GO) test -race ./...

# The MCP test (internal/e2e/mcp_test.go) runs @modelcontextprotocol/server-everything
# from npm, pinned by $(MCP_DIR)/package-lock.json. npm ci installs exactly
# that into $(MCP_DIR)/node_modules (git-ignored), only when it is missing or
# older than the lock file; npm ci fails if package.json and the lock file
# disagree. The tests never install anything.
MCP_DIR := internal/e2e/testdata/mcp
MCP_STAMP := $(MCP_DIR)/node_modules/.wsgate-npm-ci

# Installs what the tests need beyond Go, only when it is missing: Chromium
# for the browser tests, websocketd for the compatibility test, pylsp for
# the language-server test, systemd-socket-activate for the socket
# activation tests, and for the packaging tests (internal/packagetest) nginx
# and HAProxy to proxy through, man-db to render the man page,
# systemd-analyze and zsh to run the zsh completion, nats-server (with
# JetStream) for the cluster tests (internal/cluster) (Debian's packages, as
# PACKAGE:FILE it installs), then the MCP server of the MCP test (see
# MCP_DIR).
TEST_PACKAGES := chromium:$(CHROMIUM)
TEST_PACKAGES += websocketd:/usr/bin/websocketd
TEST_PACKAGES += websockify:/usr/bin/websockify
TEST_PACKAGES += python3-pylsp:/usr/bin/pylsp
TEST_PACKAGES += systemd:/usr/bin/systemd-socket-activate
TEST_PACKAGES += nginx:/usr/sbin/nginx
TEST_PACKAGES += haproxy:/usr/sbin/haproxy
TEST_PACKAGES += man-db:/usr/bin/man
TEST_PACKAGES += zsh:/usr/bin/zsh
TEST_PACKAGES += nats-server:/usr/sbin/nats-server
test-deps: test-deps-debian $(MCP_STAMP)

test-deps-debian:
	@missing=""; for p in $(TEST_PACKAGES); do \
		[ -x "$${p#*:}" ] || missing="$$missing $${p%%:*}"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "test-deps: $(foreach p,$(TEST_PACKAGES),$(firstword $(subst :, ,$(p)))) are installed"; \
	else \
		echo "test-deps: installing Debian's$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q update || exit 1; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends $$missing || exit 1; \
		for p in $(TEST_PACKAGES); do [ -x "$${p#*:}" ] || { echo "test-deps: still no $${p#*:}" >&2; exit 1; }; done; \
	fi

# The stamp is written after npm ci succeeds (npm ci first empties
# node_modules), so an install cut short runs again.
$(MCP_STAMP): $(MCP_DIR)/package.json $(MCP_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "test-deps: the MCP test needs npm (Node.js 20 or later)" >&2; exit 1; }
	npm ci --prefix $(MCP_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

# Builds and vets for every platform wsgate supports, without cgo, as a
# release would: Linux, macOS and FreeBSD on amd64 and arm64. The platform
# code is in files named for their platform (process/pty_darwin.go, ...).
CROSS_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64
cross:
	@for p in $(CROSS_PLATFORMS); do \
		echo "cross: $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build ./... || exit 1; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./... || exit 1; \
	done

# The RFC 6455 conformance table, against the protocol layer (an in-process
# echo) and the real binary (line mode and --binary, with cat).
conformance:
	$(GO) test -count=1 ./internal/conformance -run 'TestConformance' -v -args -table

# A minute of coverage-guided fuzzing of the frame reader and the upgrade.
fuzz:
	$(GO) test -run XXX -fuzz FuzzReadMessage -fuzztime 30s ./wsio
	$(GO) test -run XXX -fuzz FuzzUpgrade -fuzztime 30s ./wsio

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck, pinned; go run fetches it through the module proxy once.
STATICCHECK_VERSION := v0.8.2
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Packaging: everything goes to dist/.
#   make man    the man page and shell completions, printed by wsgate itself
#               from the flag definitions of --help
#   make deb    dist/wsgate_VERSION_ARCH.deb (DEB_ARCH=arm64 for another one)
#   make dist   release binaries for every platform below, and SHA256SUMS
DIST := dist
DEB_ARCH ?= $(shell $(GO) env GOARCH)
MAINTAINER ?= The wsgate authors <wsgate@invalid>
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64
# Release builds are static (no cgo) with trimmed paths, so one binary runs
# on any distribution. Without cgo, --user and --group find names in
# /etc/passwd and /etc/group only, not through NSS (LDAP and the like).
RELEASE_BUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
# File times in the .deb are the last commit's: the same commit gives the
# same package.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
SHARE := $(DIST)/share

man: build
	@mkdir -p $(SHARE)
	./wsgate --generate-man > $(SHARE)/wsgate.1
	./wsgate --generate-completion bash > $(SHARE)/wsgate.bash
	./wsgate --generate-completion zsh > $(SHARE)/_wsgate
	./wsgate --generate-completion fish > $(SHARE)/wsgate.fish

deb: man
	GOOS=linux GOARCH=$(DEB_ARCH) $(RELEASE_BUILD) -o $(DIST)/deb-$(DEB_ARCH)/wsgate .
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./internal/pkgbuild/cmd/mkdeb \
		-describe '$(VERSION)' -arch $(DEB_ARCH) -maintainer '$(MAINTAINER)' \
		-binary $(DIST)/deb-$(DEB_ARCH)/wsgate -man $(SHARE)/wsgate.1 \
		-bash $(SHARE)/wsgate.bash -zsh $(SHARE)/_wsgate -fish $(SHARE)/wsgate.fish \
		-license LICENSE -units deploy/wsgate.service,deploy/wsgate.socket -out $(DIST)

DIST_BINARIES := $(foreach p,$(DIST_PLATFORMS),wsgate_$(VERSION)_$(subst /,_,$(p)))
dist:
	@mkdir -p $(DIST)
	@set -e; for p in $(DIST_PLATFORMS); do \
		echo "dist: $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(RELEASE_BUILD) -o $(DIST)/wsgate_$(VERSION)_$${p%/*}_$${p#*/} .; \
	done
	cd $(DIST) && sha256sum $(DIST_BINARIES) > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

clean:
	rm -f wsgate
	rm -rf $(DIST)

include static/xterm.mk
include bench/bench.mk
include bench/soak/soak.mk
