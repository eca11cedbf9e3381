# The wsgate vs websocketd benchmark (BENCHMARKS.md). Included by the top
# Makefile (`include bench/bench.mk` after its first target, so that a bare
# `make` still builds); also works alone from the repository root:
#
#	make -f bench/bench.mk bench
#
# `make bench` builds wsgate and the load generator, installs websocketd
# (Debian's package) when it is missing, raises the open-file limit, and
# runs bin/wsgate-bench: every measurement on wsgate, websocketd and the
# in-process ceiling in turn, 3 rounds, a table of medians on stdout and
# the results in bench/results.json. It exits non-zero if any measurement
# failed. Extra flags: make bench BENCH_FLAGS='-quick' (see bin/wsgate-bench -h).

GO ?= go
BENCH_FLAGS ?=
BENCH_OUT ?= bench/results.json
# Open files for the load generator and the servers it starts (they inherit
# the limit): 5,000 connections take 4 descriptors each in the server.
BENCH_NOFILE ?= 65536
BENCH_WEBSOCKETD ?= /usr/bin/websocketd
# apt-get needs root: use sudo when we are not root.
BENCH_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: bench bench-build bench-deps

bench: bench-deps bench-build
	@if ulimit -n $(BENCH_NOFILE) 2>/dev/null; then :; else \
		ulimit -n "$$(ulimit -Hn)"; \
		echo "bench: the open-file limit cannot go to $(BENCH_NOFILE) here; using the hard limit $$(ulimit -n)"; \
	fi; \
	exec bin/wsgate-bench -wsgate bin/wsgate -websocketd $(BENCH_WEBSOCKETD) -out $(BENCH_OUT) $(BENCH_FLAGS)

bench-build:
	$(GO) build -o bin/wsgate .
	$(GO) build -o bin/wsgate-bench ./bench

# Installs websocketd (Debian's package) only when it is missing.
bench-deps:
	@if [ -x "$(BENCH_WEBSOCKETD)" ]; then \
		echo "bench-deps: $(BENCH_WEBSOCKETD) is installed"; \
	else \
		echo "bench-deps: $(BENCH_WEBSOCKETD) is missing: installing Debian's websocketd package"; \
		$(BENCH_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q update || exit 1; \
		$(BENCH_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends websocketd || exit 1; \
		[ -x "$(BENCH_WEBSOCKETD)" ] || { echo "bench-deps: still no $(BENCH_WEBSOCKETD) after installing websocketd" >&2; exit 1; }; \
	fi
