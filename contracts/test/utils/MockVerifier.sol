// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IProofVerifier} from "../../src/IProofVerifier.sol";

/// A verifier stand-in for the Pool's logic tests: accepts exactly the proofs registered with
/// `accept` (a proof is bound to its public inputs, like a real one), returns false otherwise, and
/// reverts instead when `revertInstead` is set (bb's verifiers revert on malformed proofs).
contract MockVerifier is IProofVerifier {
    mapping(bytes32 => bool) public accepted;
    bool public revertInstead;

    error MockRevert();

    function accept(bytes calldata proof, bytes32[] calldata publicInputs) external {
        accepted[keccak256(abi.encode(proof, publicInputs))] = true;
    }

    function setRevertInstead(bool v) external {
        revertInstead = v;
    }

    function verify(bytes calldata proof, bytes32[] calldata publicInputs) external view returns (bool) {
        if (revertInstead) revert MockRevert();
        return accepted[keccak256(abi.encode(proof, publicInputs))];
    }
}
