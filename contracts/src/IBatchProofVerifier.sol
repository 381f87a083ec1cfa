// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @notice The interface of the batch verifiers contracts/tools/gen_batch_verifier.py generates from
/// a circuit's verification key (BatchSpendVerifier, BatchSplitVerifier; docs/batch-verifier.md).
interface IBatchProofVerifier {
    /// True if every proofs[i] is valid for publicInputs[i] (the circuit's public inputs in order,
    /// each < p); reverts otherwise (the generated verifiers never return false). k = proofs.length >= 1.
    function verifyBatch(bytes[] calldata proofs, bytes32[][] calldata publicInputs) external view returns (bool);
}
