# The soak test (RELIABILITY.md). Included by the top Makefile; not part of
# `make test`. Loopback only, bounded in time (about 5 minutes on 2 cores):
#
#	make soak
#
# 1. bin/wsgate-soak: one wsgate with --dir testscripts/faults, 20,000 echo
#    connections churned as fast as the machine allows with every echo
#    verified, the fault mix alongside, then the checks (no program, no
#    zombie, descriptors/goroutines/threads/RSS back) and a table.
# 2. The bounded-shutdown test of internal/e2e with the issue's 1,000
#    clients that never read (make test runs it with 200).
# Both run; the target fails if either does. Extra flags for the first:
# make soak SOAK_FLAGS='-conns 2000' (see bin/wsgate-soak -h).

GO ?= go
SOAK_FLAGS ?=

.PHONY: soak

soak:
	$(GO) build -o bin/wsgate .
	$(GO) build -o bin/wsgate-soak ./bench/soak
	@ulimit -n "$$(ulimit -Hn)"; status=0; \
	bin/wsgate-soak -wsgate bin/wsgate -faults testscripts/faults $(SOAK_FLAGS) || status=1; \
	echo "soak: bounded shutdown with 1,000 clients that never read"; \
	WSGATE_SHUTDOWN_CLIENTS=1000 $(GO) test -count=1 -v \
		-run '^TestShutdownIsBoundedWithClientsThatNeverRead$$' ./internal/e2e/ \
		>bin/soak-shutdown.log 2>&1 || status=1; \
	grep -v 'msg=connection' bin/soak-shutdown.log; \
	exit $$status
