# vqs: build, run the default problem, test, benchmark, lint.
GO ?= go
BIN ?= bin/vqs
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X vqs/buildinfo.version=$(VERSION)

.PHONY: build run test bench lint clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/vqs

# The main job on its default problem (8x8, m2 = 1, lambda = 24).
run: build
	./$(BIN) ground-state

test:
	$(GO) test ./...

# Benchmarks run side by side in one invocation; compare runs with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./... | tee bench.out

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin bench.out
