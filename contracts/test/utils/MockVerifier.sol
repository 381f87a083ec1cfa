// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IBatchProofVerifier} from "../../src/IBatchProofVerifier.sol";

/// A verifier stand-in for the Pool's logic tests: accepts exactly the proofs registered with
/// `accept` (a proof is bound to its public inputs, like a real one). verifyBatch returns true iff
/// every (proofs[i], publicInputs[i]) is registered and false otherwise (the generated verifiers
/// revert instead; the Pool treats both alike), or reverts when `revertInstead` is set.
contract MockVerifier is IBatchProofVerifier {
    mapping(bytes32 => bool) public accepted;
    bool public revertInstead;

    error MockRevert();
    error BatchShape();

    function accept(bytes calldata proof, bytes32[] calldata publicInputs) external {
        accepted[keccak256(abi.encode(proof, publicInputs))] = true;
    }

    function setRevertInstead(bool v) external {
        revertInstead = v;
    }

    function verifyBatch(bytes[] calldata proofs, bytes32[][] calldata publicInputs) external view returns (bool) {
        if (revertInstead) revert MockRevert();
        if (proofs.length == 0 || proofs.length != publicInputs.length) revert BatchShape();
        for (uint256 i = 0; i < proofs.length; ++i) {
            if (!accepted[keccak256(abi.encode(proofs[i], publicInputs[i]))]) return false;
        }
        return true;
    }
}
