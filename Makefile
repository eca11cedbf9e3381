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

.PHONY: build run test test-deps conformance fuzz vet staticcheck fmt-check clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o wsgate .

# Starts wsgate on :8080 with the echo sample: open http://localhost:8080
run: build
	./wsgate --port 8080 ./testscripts/echo.pl

test: test-deps xterm-check fmt-check vet staticcheck
	$(GO) test -race ./...

# Installs what the tests need beyond Go, only when it is missing: Chromium
# for the browser tests and websocketd for the compatibility test (Debian's
# chromium and websocketd packages).
TEST_PACKAGES := chromium:$(CHROMIUM) websocketd:/usr/bin/websocketd
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do \
		[ -x "$${p#*:}" ] || missing="$$missing $${p%%:*}"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "test-deps: chromium and websocketd are installed"; \
	else \
		echo "test-deps: installing Debian's$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q update || exit 1; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends $$missing || exit 1; \
		for p in $(TEST_PACKAGES); do [ -x "$${p#*:}" ] || { echo "test-deps: still no $${p#*:}" >&2; exit 1; }; done; \
	fi

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

clean:
	rm -f wsgate

include static/xterm.mk
include bench/bench.mk
include bench/soak/soak.mk
