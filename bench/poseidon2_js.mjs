// The JavaScript baseline for scripts/bench_poseidon2.sh: Barretenberg's width-4 Poseidon2
// permutation as implemented by npm @zkpassport/poseidon2 (pinned in package.json), timed on one
// thread the same way as the C++ benchmark: each permutation's output is the next one's input.
//
// Usage: node bench/poseidon2_js.mjs [N=20000] [WARMUP=2000] [BATCH=0]
// With BATCH > 0 it times the C++ permute_many benchmark's work instead: BATCH independent states,
// each permuted in turn, over and over (N permutations in all, rounded up to whole batches).
// Prints one JSON line: {"impl", "n", "batch", "ns_per_perm", "perms_per_s", "output0"}.
// Exits 1 if the library does not reproduce bb's known vector (then its timing means nothing).
import { permute } from "@zkpassport/poseidon2";

// Poseidon2Permutation([0, 0, 0, 0])[0] as bb 5.0.0's msgpack API returns it (docs/toolchain.md).
const kBbZeroVector = 0x18dfb8dc9b82229cff974efefc8df78b1ce96d9d844236b496785c698bc6732en;

const n = Number(process.argv[2] ?? 20000);
const warmup = Number(process.argv[3] ?? 2000);
const batch = Number(process.argv[4] ?? 0);
if (!(Number.isInteger(n) && n > 0 && Number.isInteger(warmup) && warmup >= 0 &&
      Number.isInteger(batch) && batch >= 0)) {
  console.error("usage: poseidon2_js.mjs [N>0] [WARMUP>=0] [BATCH>=0]");
  process.exit(2);
}

const zero = permute([0n, 0n, 0n, 0n]);
if (zero[0] !== kBbZeroVector) {
  console.error(`@zkpassport/poseidon2 disagrees with bb: P(0)[0] = 0x${zero[0].toString(16)}`);
  process.exit(1);
}

let state = [1n, 2n, 3n, 4n];
let done = 0;
let elapsed;
if (batch === 0) {
  for (let i = 0; i < warmup; i++) state = permute(state);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) state = permute(state);
  elapsed = Number(process.hrtime.bigint() - start);
  done = n;
} else {
  const states = Array.from({ length: batch }, (_, i) => [BigInt(i), 2n, 3n, 4n]);
  for (let i = 0; i < warmup; i++) states[i % batch] = permute(states[i % batch]);
  const start = process.hrtime.bigint();
  while (done < n) {
    for (let i = 0; i < batch; i++) states[i] = permute(states[i]);
    done += batch;
  }
  elapsed = Number(process.hrtime.bigint() - start);
  state = states[0];
}

const nsPerPerm = elapsed / done;
console.log(
  JSON.stringify({
    impl: "@zkpassport/poseidon2",
    n: done,
    batch,
    ns_per_perm: nsPerPerm,
    perms_per_s: 1e9 / nsPerPerm,
    output0: "0x" + state[0].toString(16).padStart(64, "0"),
  }),
);
