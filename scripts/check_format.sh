#!/usr/bin/env bash
# Fails when a C++ file of the repository differs from what clang-format makes of it (.clang-format):
# prints each such file once and how many there are. `make format` fixes them.
set -uo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files 'include/*.h' 'src/*.h' 'src/*.cpp' 'bench/*.h' 'bench/*.cpp' 'tests/*.h' 'tests/*.cpp')
else
  mapfile -t files < <(find include src bench tests -name '*.h' -o -name '*.cpp' | sort)
fi
findings=$("$clang_format" --dry-run -Werror "${files[@]}" 2>&1)
status=$?
mapfile -t bad < <(grep -o '^[^:]*:[0-9]*:[0-9]*: error:' <<<"$findings" | cut -d: -f1 | sort -u)
if [ "$status" -ne 0 ] || [ "${#bad[@]}" -gt 0 ]; then
  for f in "${bad[@]}"; do echo "check_format: $f is not formatted"; done
  [ "${#bad[@]}" -gt 0 ] || echo "$findings" | head -5
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not formatted (make format)"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted as .clang-format says"
