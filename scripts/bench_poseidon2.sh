#!/usr/bin/env bash
# Poseidon2 (width 4, Barretenberg's parameters): the C++ permutation against the npm
# @zkpassport/poseidon2 JavaScript one, one thread each, and a table of the results.
#
# Usage: scripts/bench_poseidon2.sh [BUILD_DIR=build] [JS_N=20000]
#   Builds the poseidon2_bench target (-j2), runs it with --benchmark_format=json (median of 5
#   repetitions), then bench/poseidon2_js.mjs (JS_N permutations after a warm-up), and prints
#   ns/permutation, permutations/s and the ratios. Two C++ rows: one permutation at a time, each
#   output chained into the next input (latency, as the JS side is timed), and permute_many() on
#   1,024 independent states (throughput: eight at a time with AVX-512 IFMA where the CPU has it).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
js_n=${2:-20000}

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  cmake -S . -B "$build" -G Ninja >/dev/null
fi
cmake --build "$build" --target poseidon2_bench -j2 >/dev/null

cpp_json=$(mktemp)
trap 'rm -f "$cpp_json"' EXIT
"$build/bin/poseidon2_bench" --benchmark_filter='^BM_(Permutation|Hash3|FrMul|PermuteMany/1024)$' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$cpp_json"
js_line=$(node bench/poseidon2_js.mjs "$js_n" 2000)
js_batch_line=$(node bench/poseidon2_js.mjs "$js_n" 2000 1024)

node - "$cpp_json" "$js_line" "$js_batch_line" <<'EOF'
const fs = require("fs");
const cpp = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const js = JSON.parse(process.argv[3]);
const jsBatch = JSON.parse(process.argv[4]);
// Wall-clock time (real_time), like the JS side; cpu_time is printed too, as a check on a busy machine.
const median = (name, field = "real_time") => {
  const b = cpp.benchmarks.find((x) => x.run_name === name && x.aggregate_name === "median");
  if (!b) throw new Error(`no median for ${name}`);
  const scale = { ns: 1, us: 1e3, ms: 1e6 }[b.time_unit];
  return b[field] * scale;
};
const perm = median("BM_Permutation");
const hash3 = median("BM_Hash3");
const mul = median("BM_FrMul");
const many = median("BM_PermuteMany/1024") / 1024;
const backend = cpp.benchmarks.find((x) => x.run_name === "BM_PermuteMany/1024").label || "?";
const row = (name, ns) =>
  `${name.padEnd(34)} ${ns.toFixed(1).padStart(12)} ${(1e9 / ns).toFixed(0).padStart(14)}`;
console.log(`host: ${cpp.context.host_name}, ${cpp.context.num_cpus} cpus @ ${cpp.context.mhz_per_cpu} MHz, ` +
            `load avg ${(cpp.context.load_avg || []).map((x) => x.toFixed(2)).join(" ")}`);
console.log(`${"implementation".padEnd(34)} ${"ns/perm".padStart(12)} ${"perms/s".padStart(14)}`);
console.log(row("C++ bucketpay::poseidon2::permute", perm));
console.log(row("C++ bucketpay::poseidon2::hash3", hash3));
console.log(row(`C++ permute_many x1024 (${backend})`, many));
console.log(row(`JS @zkpassport/poseidon2 (n=${js.n})`, js.ns_per_perm));
console.log(row(`JS the same x1024 batch (n=${jsBatch.n})`, jsBatch.ns_per_perm));
console.log(`C++ permutation CPU time: ${median("BM_Permutation", "cpu_time").toFixed(1)} ns; ` +
            `Fr multiplication: ${mul.toFixed(2)} ns`);
console.log(`ratio JS / C++ (permutation): ${(js.ns_per_perm / perm).toFixed(1)}x`);
console.log(`ratio JS / C++ (x1024 batch, the same work): ${(jsBatch.ns_per_perm / many).toFixed(1)}x; ` +
            `permute_many vs permute: ${(perm / many).toFixed(1)}x`);
EOF
