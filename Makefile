# bucketpay: `make test` and `make demo` do all set-up when needed (scripts/setup.sh is idempotent).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CRS ?= $(abspath ../shared/crs)
PREFIX ?= /usr/local

.PHONY: all setup configure build install test hardening asan tsan fuzz demo demo-x402 bench bench-x402 gas format tidy clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release; fi

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# bucketpay and bucketpay-relay with their runtime files under $(PREFIX) (docs/install.md).
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

test: build
	scripts/test.sh $(BUILD_DIR)

# Sanitizer builds and fuzzers (scripts/hardening.sh, docs/hardening.md); .ci/run runs it after test.
hardening: setup
	scripts/hardening.sh all

asan tsan fuzz: setup
	scripts/hardening.sh $@

demo: build
	scripts/demo.sh $(BUILD_DIR)

# An agent pays 20 API calls at $0.05 through x402 (bucketpay-exact, docs/x402.md) on anvil.
demo-x402: build
	cd packages/x402-bucketpay && BUCKETPAY_BIN_DIR=$(abspath $(BUILD_DIR))/bin BUCKETPAY_CRS=$(CRS) \
	  BUCKETPAY_ROOT=$(CURDIR) node demo/agent.mjs

# bucketpay-exact beside x402's own exact EVM scheme (EIP-3009) on one anvil (docs/x402.md).
bench-x402: build
	cd packages/x402-bucketpay && BUCKETPAY_BIN_DIR=$(abspath $(BUILD_DIR))/bin BUCKETPAY_CRS=$(CRS) \
	  BUCKETPAY_ROOT=$(CURDIR) node bench/compare.mjs

bench: build
	scripts/bench.sh $(BUILD_DIR)

format:
	find include src bench tests -name '*.h' -o -name '*.cpp' | xargs clang-format -i

tidy: build
	scripts/check_tidy.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan

gas: build
	scripts/gas.sh
