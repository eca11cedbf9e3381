# xterm.js for the terminal page (static/pages/terminal.html), from npm.
#
# static/package.json pins @xterm/xterm and @xterm/addon-fit and
# static/package-lock.json locks them (with their integrity hashes). The few
# files the page loads are copied from static/node_modules into
# static/pages/vendor/xterm/ and committed, so that a plain `go build` on a
# fresh clone embeds them without npm; static/node_modules is not committed.
#
#   make xterm-vendor   npm ci, then copy the files: run after changing the
#                       pinned versions (npm install --prefix static --save-exact
#                       @xterm/xterm@X), and commit the result
#   make xterm-check    npm ci, then fail unless the committed copies are
#                       exactly the files that the lock file pins (for CI)
#
# Included from the top Makefile, or run alone from the repository root:
# `make -f static/xterm.mk xterm-check`. Paths are relative to that root.

# Keep whatever default goal the including Makefile has (or will have).
xterm_default_goal := $(.DEFAULT_GOAL)

XTERM_NPM ?= npm
XTERM_MODULES := static/node_modules/@xterm
XTERM_VENDOR := static/pages/vendor/xterm
# What the page needs, as SOURCE:NAME pairs: SOURCE under $(XTERM_MODULES),
# NAME in $(XTERM_VENDOR). The files are copied byte for byte.
XTERM_FILES := \
	xterm/lib/xterm.js:xterm.js \
	xterm/css/xterm.css:xterm.css \
	xterm/LICENSE:LICENSE \
	addon-fit/lib/addon-fit.js:addon-fit.js \
	addon-fit/LICENSE:addon-fit.LICENSE

# xterm_copy,DIR: a shell command that (re)creates DIR holding exactly the
# files of XTERM_FILES.
xterm_copy = rm -rf "$(1)" && mkdir -p "$(1)" && \
	for f in $(XTERM_FILES); do \
		cp "$(XTERM_MODULES)/$${f%%:*}" "$(1)/$${f\#*:}" || exit 1; \
	done

.PHONY: xterm-vendor xterm-check xterm-npm-ci

# A clean install of exactly what static/package-lock.json pins (npm ci fails
# if package.json and the lock file disagree). --loglevel=error keeps it quiet.
xterm-npm-ci:
	@command -v $(XTERM_NPM) >/dev/null || { echo "$@: needs npm (Node.js), e.g. apt-get install npm" >&2; exit 1; }
	$(XTERM_NPM) ci --prefix static --no-audit --no-fund --loglevel=error

xterm-vendor: xterm-npm-ci
	$(call xterm_copy,$(XTERM_VENDOR))
	@echo "xterm-vendor: copied into $(XTERM_VENDOR):" && ls -l $(XTERM_VENDOR)

# Copies afresh into a temporary directory and compares the whole directory,
# so a changed, missing or extra file in $(XTERM_VENDOR) all fail.
xterm-check: xterm-npm-ci
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(call xterm_copy,$$tmp/xterm) && \
	if diff -r --brief "$$tmp/xterm" $(XTERM_VENDOR); then \
		echo "xterm-check: $(XTERM_VENDOR) matches static/package-lock.json"; \
	else \
		echo "xterm-check: $(XTERM_VENDOR) differs from what static/package-lock.json pins: run \`make xterm-vendor\` and commit the result" >&2; \
		exit 1; \
	fi

.DEFAULT_GOAL := $(xterm_default_goal)
