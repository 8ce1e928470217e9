# Persona Workbench. `make run` opens the demo; `make test` runs every test.
GO      ?= go
TAGS    := duckdb_arrow
BIN     := bin/persona
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 1

.PHONY: build run test deps check-layout bench fuzz clean

## build: the persona binary (DuckDB is embedded; the first link takes ~40 s)
build:
	$(GO) build -tags $(TAGS) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/persona

## run: build and open the workbench on the synthetic demo sample
run: build
	./$(BIN) demo

## deps: Debian packages the tests need (tmux drives the TUI end to end; chromium renders the HTML report); bench adds visidata
# command:Debian package
DEPS ?= tmux:tmux age:age minisign:minisign chromium:chromium
deps:
	@missing=""; for t in $(DEPS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing…"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq $$missing >/dev/null; \
	  else echo "make test needs:$$missing (apt-get install$$missing)"; exit 1; fi; fi

## check-layout: engine/ must not know its UI
check-layout:
	@bad=$$($(GO) list -tags $(TAGS) -deps ./engine/... | grep -E 'charmbracelet/(bubbletea|lipgloss|bubbles)|NimbleMarkets/ntcharts|persona/tui' || true); \
	if [ -n "$$bad" ]; then echo "engine/ depends on UI packages: $$bad"; exit 1; fi

## test: formatting, vet, layout, then every test (unit, golden, end to end)
test: deps check-layout
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	PERSONA_REQUIRE_CHROMIUM=1 $(GO) test -tags $(TAGS) -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=300x

FUZZTIME ?= 60s
# fuzz targets of the parsers of untrusted input: package, licence, inventory
FUZZ := engine/pack/container:FuzzRead engine/licence:FuzzParse engine/inventory:FuzzRead engine/contract:FuzzIdentifiers engine/usagelog:FuzzVerify engine/guard:FuzzHistoryFile

## bench: every figure in docs/BENCHMARKS.md, side by side with raw DuckDB and VisiData, at 1M and 10M records: open, slices (median, p95), the guard under both methods, analyses, a slice after 1,000 earlier releases, a 2,500-value multi-valued dimension, the workbench's View(), peak memory, a frequency table end to end; BENCH_SCALE=100M then opens and slices a 100M-record package
BENCH_SIZES := 1000000 10000000
bench:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) vd:visidata"
	@for n in $(BENCH_SIZES); do echo "== $$n records"; \
	  PERSONA_BENCH_ROWS=$$n $(GO) test -tags $(TAGS) -run '^$$' -bench OpenVsRawLoad -benchtime 1x -timeout 0 ./engine/pack/ || exit 1; \
	  PERSONA_BENCH_ROWS=$$n $(GO) test -tags $(TAGS) -run '^$$' -bench 'WorkbenchSlices|BenchmarkGuard$$|GuardPerturbed' -benchtime 21x -timeout 0 ./engine/guard/ || exit 1; \
	  BENCH_ROWS=$$n $(GO) test -tags $(TAGS) -run '^$$' -bench Analyses -benchtime 1x -count 3 -timeout 0 ./engine/analysis/ | awk -f tools/median.awk || exit 1; \
	done
	PERSONA_BENCH_ROWS=1000000 PERSONA_BENCH_HISTORY=1000 $(GO) test -tags $(TAGS) -run '^$$' -bench 'History|ManyValues' -benchtime 21x -timeout 0 ./engine/guard/
	BENCH_ROWS=$$(echo $(BENCH_SIZES) | tr ' ' ,) $(GO) test -tags $(TAGS) -run '^$$' -bench 'FrequencyTable|QueryMemory' -benchtime 1x -timeout 0 ./bench/
	$(GO) test -tags $(TAGS) -run '^$$' -bench 'View|NewSlice' -benchtime 100x -count 11 ./tui/ | awk -f tools/median.awk
	$(GO) test -tags $(TAGS) -run '^$$' -bench . ./sample/
ifeq ($(BENCH_SCALE),100M)
	BENCH_ROWS=100000000 BENCH_ROUNDS=1 $(GO) test -tags $(TAGS) -run '^$$' -bench Scale -benchtime 1x -timeout 0 ./bench/
endif

## fuzz: fuzz every parser of untrusted input, FUZZTIME each (make test: 300 inputs each)
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; log=$$(mktemp); \
	  $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg/ >"$$log" 2>&1 || { cat "$$log"; rm -f "$$log"; exit 1; }; rm -f "$$log"; done

clean:
	rm -rf bin
