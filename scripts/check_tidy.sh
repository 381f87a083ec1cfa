#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: every finding is an error) over the library and program sources of
# src/ (not the tests, benchmarks or fuzz harnesses) with the build's compile_commands.json, two
# files at a time.
# Usage: check_tidy.sh [--no-analyzer] [BUILD_DIR]   (default: build)
#   --no-analyzer  leaves out the path-sensitive clang-analyzer-* checks, about 70% of the cost (on
#                  2 cores: 4 min instead of 15); `make test` runs this, `make tidy` runs them all.
set -uo pipefail
cd "$(dirname "$0")/.."
extra=()
if [ "${1:-}" = "--no-analyzer" ]; then
  extra=('--checks=-clang-analyzer-*')
  shift
fi
build=${1:-build}
clang_tidy=${CLANG_TIDY:-clang-tidy}
command -v "$clang_tidy" >/dev/null || { echo "check_tidy: $clang_tidy is not installed (apt-get install clang-tidy)" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "check_tidy: $build/compile_commands.json is missing (configure first)" >&2; exit 1; }
mapfile -t files < <(find src -name '*.cpp' ! -name '*_test.cpp' ! -name '*_bench.cpp' ! -name '*_fuzzer.cpp' | sort)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s\n' "${files[@]}" | xargs -P 2 -n 4 "$clang_tidy" -p "$build" --quiet "${extra[@]}" >"$log" 2>&1
status=$?
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u)
if [ "$status" -ne 0 ] || [ -n "$findings" ]; then
  if [ -n "$findings" ]; then echo "$findings" | sed 's/^/check_tidy: /'; else tail -20 "$log"; fi
  echo "check_tidy: $(grep -c . <<<"$findings") findings in ${#files[@]} files"
  exit 1
fi
echo "check_tidy: ${#files[@]} files, no findings${extra:+ (without the analyzer)}"
