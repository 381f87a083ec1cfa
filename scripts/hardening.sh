#!/usr/bin/env bash
# The sanitizer and fuzzing runs of CI (docs/hardening.md), each in a build directory of its own
# with clang-14 from Debian (scripts/setup.sh installs it):
#   asan  build-asan: AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), every C++
#         test but those listed in ASAN_SKIP below; also builds the libFuzzer harnesses
#   fuzz  each harness in build-asan for FUZZ_SECONDS (default 20) from its seed corpus
#         (src/<module>/corpus/<harness>/), two at a time
#   tsan  build-tsan: ThreadSanitizer on the prover pool, engine, HTTP server, service and fleet tests
#   all   asan, fuzz, tsan (what .ci/run runs after `make test`)
# Any sanitizer report fails the test that caused it; a fuzzer that crashes, leaks, times out or
# runs out of memory fails the run and leaves its input in <build>/fuzz-artifacts/.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export BUCKETPAY_CRS=${BUCKETPAY_CRS:-$(cd .. && pwd)/shared/crs}
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CXX_CLANG=${CXX_CLANG:-clang++-14}
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer TSAN_SYMBOLIZER_PATH=$symbolizer \
  UBSAN_SYMBOLIZER_PATH=$symbolizer LLVM_SYMBOLIZER_PATH=$symbolizer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp}

# Under ASan: every ctest test except these (regular expression): the browser test (Chromium and
# Node drive it), the Python one, and the fleet (TSan runs it), kept out for CI's time; and the
# install test, which refuses a binary naming its checkout: the sanitizer build's line tables do
# (it runs on make test's Release build, the one that is installed).
ASAN_SKIP=${ASAN_SKIP:-'^service\.dashboard_browser$|^poseidon2_ifma_bounds$|^FleetTest\.|^install\.e2e$'}
# Under TSan: the tests of the threaded parts (the prover pool and engine, the HTTP server and the
# service, the fleet).
TSAN_TESTS=${TSAN_TESTS:-'^(EngineTest|HttpServer|ServiceTest|FleetTest|FleetWorker)\.'}
TSAN_TARGETS=(engine_test http_test service_test fleet_e2e_test)

configure() {  # dir, extra cmake args...
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_COMPILER="$CXX_CLANG" \
      -DBUCKETPAY_BUILD_BENCHMARKS=OFF "$@" >/dev/null || return 1
  fi
}

timed() {  # label, command...
  local label=$1 t0=$SECONDS rc
  shift
  "$@"
  rc=$?
  echo "hardening: $label took $((SECONDS - t0)) s (exit $rc)"
  return $rc
}

asan() {
  configure build-asan -DBUCKETPAY_SANITIZE=address,undefined -DBUCKETPAY_FUZZ=ON || return 1
  timed "asan build" cmake --build build-asan -j "$JOBS" || return 1
  BUCKETPAY_BUILD_DIR="$root/build-asan" timed "asan tests" \
    ctest --test-dir build-asan --output-on-failure -j 2 -E "$ASAN_SKIP"
}

tsan() {
  configure build-tsan -DBUCKETPAY_SANITIZE=thread || return 1
  timed "tsan build" cmake --build build-tsan -j "$JOBS" --target "${TSAN_TARGETS[@]}" || return 1
  BUCKETPAY_BUILD_DIR="$root/build-tsan" timed "tsan tests" \
    ctest --test-dir build-tsan --output-on-failure -j 2 -R "$TSAN_TESTS"
}

fuzz_one() {  # harness binary
  local bin=$1 name seeds work log
  name=$(basename "$bin")
  seeds=$(find src -type d -path "*/corpus/$name" | head -1)
  work="build-asan/fuzz-corpus/$name"
  log="build-asan/fuzz-logs/$name.log"
  mkdir -p "$work" build-asan/fuzz-artifacts build-asan/fuzz-logs
  # New inputs go to the build's corpus (the first directory); the committed seeds are only read.
  if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="build-asan/fuzz-artifacts/$name-" "$work" ${seeds:+"$seeds"} >"$log" 2>&1; then
    echo "fuzz: $name ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs)"
  else
    echo "fuzz: $name FAILED (log: $log)"
    tail -40 "$log"
    return 1
  fi
}

fuzz() {
  [ -d build-asan ] || { echo "hardening: run '$0 asan' first (it builds the harnesses)" >&2; return 1; }
  timed "fuzzer build" cmake --build build-asan -j "$JOBS" --target fuzzers || return 1
  local bins=() pids=() passed=0 failed=0 i
  mapfile -t bins < <(find build-asan/bin -maxdepth 1 -name '*_fuzzer' -type f | sort)
  [ "${#bins[@]}" -gt 0 ] || { echo "hardening: no fuzzers built" >&2; return 1; }
  local t0=$SECONDS
  # Two at a time (two cores); each runs FUZZ_SECONDS.
  for ((i = 0; i < ${#bins[@]}; i += 2)); do
    fuzz_one "${bins[i]}" &
    pids=($!)
    if ((i + 1 < ${#bins[@]})); then
      fuzz_one "${bins[i + 1]}" &
      pids+=($!)
    fi
    for pid in "${pids[@]}"; do
      if wait "$pid"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
  done
  echo "hardening: fuzzing took $((SECONDS - t0)) s"
  echo "fuzz: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

passed=0
failed=0
step() {  # name: runs it and counts it
  if "$1"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
case "${1:-all}" in
  asan | tsan | fuzz) step "$1" ;;
  all)
    step asan
    step fuzz
    step tsan
    ;;
  *)
    echo "usage: $0 [asan|fuzz|tsan|all]" >&2
    exit 2
    ;;
esac
# One line for CI's log: the steps (asan, fuzz, tsan) that passed and failed.
echo "hardening: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
