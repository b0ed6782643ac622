# VHRNN — build, run and test.
#
# The C kernels use OpenMP when the package is built with VHRNN_OPENMP=1 (an opt-in, because
# -fopenmp is an unsafe flag for SwiftPM); without it they use libdispatch. The Makefile builds
# the CLI, the bench and the tests with OpenMP in .build-openmp, and also runs the whole test
# suite on the libdispatch build (.build), so both backends stay tested.

SWIFT        ?= swift
OPENMP_ENV   := VHRNN_OPENMP=1
OPENMP_BUILD := --scratch-path .build-openmp
# swift test builds C at -O0; the kernels are tested at -O2 as they ship.
TEST_FLAGS   := -Xcc -O2 --disable-xctest
APT_PACKAGES := libopenblas-dev libomp-dev

.PHONY: all deps build run bench test test-openmp test-dispatch example fuzz test-sanitize docs docs-coverage clean

all: build

# Installs the system libraries when missing: apt-get as root, sudo where available,
# otherwise print the exact command and stop.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "installing:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	elif command -v sudo >/dev/null 2>&1; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "missing system packages; run as root:"; \
	  echo "  apt-get update && apt-get install -y$$missing"; \
	  exit 1; \
	fi

build: deps
	$(OPENMP_ENV) $(SWIFT) build -c release $(OPENMP_BUILD)

# The main job on its built-in default.
run: deps
	$(OPENMP_ENV) $(SWIFT) run -c release $(OPENMP_BUILD) vhrnn $(ARGS)

bench: deps
	$(OPENMP_ENV) $(SWIFT) run -c release $(OPENMP_BUILD) bench $(ARGS)

test: deps test-openmp test-dispatch example docs

test-openmp:
	$(OPENMP_ENV) $(SWIFT) test $(TEST_FLAGS) $(OPENMP_BUILD)

test-dispatch:
	$(SWIFT) test $(TEST_FLAGS)

# The downstream example: a separate package that depends on this one by path.
example:
	cd Examples/FilterDemo && $(SWIFT) run -c release

# The suite under AddressSanitizer (+ UBSan on the C kernels) and the parallel code under
# ThreadSanitizer, each on both backends (scripts/test-sanitize.sh; about an hour on 2 cores).
test-sanitize: deps
	scripts/test-sanitize.sh $(SANITIZERS)

# Coverage-guided fuzzing of every reader of outside bytes (libFuzzer + AddressSanitizer, the
# package in Fuzz/): FUZZ_SECONDS per target (default 600), FUZZ_TARGETS to pick (default all).
FUZZ_SECONDS ?= 600
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

# The DocC catalog (Sources/VHRNN/VHRNN.docc) and every public declaration's documentation as
# one archive, .build-docs/VHRNN.doccarchive (static hosting layout; open with
# `swift package --disable-sandbox preview-documentation --target VHRNN` for a local server).
# Warnings (broken symbol or article links, "- Parameters:" lists that miss a parameter) are
# errors; `make docs DOCC_FLAGS=` builds in spite of them, and
# `make docs DOCC_FLAGS=--experimental-documentation-coverage` also prints docc's coverage table.
# Needs no system package: the swift-docc-plugin command plugin and docc ship with the toolchain.
DOCS_DIR   := .build-docs
DOCC_FLAGS ?= --warnings-as-errors
docs:
	@mkdir -p $(DOCS_DIR)
	$(SWIFT) package --scratch-path $(DOCS_DIR)/scratch --disable-sandbox \
	  --allow-writing-to-directory $(DOCS_DIR) \
	  generate-documentation --target VHRNN $(DOCC_FLAGS) --output-path $(DOCS_DIR)/VHRNN.doccarchive

# Public declarations of the VHRNN target without a doc comment, per folder and file.
docs-coverage:
	scripts/doc-coverage.sh $(ARGS)

clean:
	rm -rf .build .build-openmp .build-fuzz .build-asan .build-asan-openmp .build-tsan .build-tsan-openmp .build-docs Examples/FilterDemo/.build
