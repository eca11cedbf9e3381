# wsgate's build. `make run` and `make test` do all the set-up on a fresh clone.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test check vet fmt-check clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o wsgate .

# Starts wsgate on :8080 with the echo sample: open http://localhost:8080
run: build
	./wsgate --port 8080 ./testscripts/echo.pl

test: fmt-check vet
	$(GO) test -race ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

clean:
	rm -f wsgate
