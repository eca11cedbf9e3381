# The wsgate vs websocketd benchmark (BENCHMARKS.md). Included by the top
# Makefile (`include bench/bench.mk` after its first target, so that a bare
# `make` still builds); also works alone from the repository root:
#
#	make -f bench/bench.mk bench
#
# `make bench` builds wsgate and the load generator, installs websocketd
# and websockify (Debian's packages) when they are missing, raises the
# open-file limit, and runs bin/wsgate-bench: every measurement on wsgate,
# websocketd and the in-process ceiling in turn (and wsgate --connect
# beside websockify), 3 rounds, a table of medians on stdout and the
# results in bench/results.json. It exits non-zero if any measurement
# failed. Extra flags: make bench BENCH_FLAGS='-quick' (see bin/wsgate-bench -h).

GO ?= go
BENCH_FLAGS ?=
BENCH_OUT ?= bench/results.json
# Open files for the load generator and the servers it starts (they inherit
# the limit): 5,000 connections take 4 descriptors each in the server.
BENCH_NOFILE ?= 65536
BENCH_WEBSOCKETD ?= /usr/bin/websocketd
BENCH_WEBSOCKIFY ?= /usr/bin/websockify
# apt-get needs root: use sudo when we are not root.
BENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: bench bench-build bench-deps

bench: bench-deps bench-build
	@if ulimit -n $(BENCH_NOFILE) 2>/dev/null; then :; else \
		ulimit -n "$$(ulimit -Hn)"; \
		echo "bench: the open-file limit cannot go to $(BENCH_NOFILE) here; using the hard limit $$(ulimit -n)"; \
	fi; \
	exec bin/wsgate-bench -wsgate bin/wsgate -websocketd $(BENCH_WEBSOCKETD) -websockify $(BENCH_WEBSOCKIFY) -out $(BENCH_OUT) $(BENCH_FLAGS)

bench-build:
	$(GO) build -o bin/wsgate .
	$(GO) build -o bin/wsgate-bench ./bench

# Installs websocketd and websockify (Debian's packages) only when they are
# missing: PACKAGE:PROGRAM pairs.
BENCH_PACKAGES := websocketd:$(BENCH_WEBSOCKETD) websockify:$(BENCH_WEBSOCKIFY)

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do \
		[ -x "$${p#*:}" ] || missing="$$missing $${p%%:*}"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "bench-deps: $(BENCH_WEBSOCKETD) and $(BENCH_WEBSOCKIFY) are installed"; \
	else \
		echo "bench-deps: installing Debian's$$missing"; \
		$(BENCH_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q update || exit 1; \
		$(BENCH_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends $$missing || exit 1; \
		for p in $(BENCH_PACKAGES); do \
			[ -x "$${p#*:}" ] || { echo "bench-deps: still no $${p#*:} after installing $${p%%:*}" >&2; exit 1; }; \
		done; \
	fi
