// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @notice The interface of the verifiers `bb write_solidity_verifier -t evm` emits (there named
/// `IVerifier`; named differently here so that both generated files can be imported beside it).
/// A verifier returns true for a valid proof and returns false or reverts otherwise.
interface IProofVerifier {
    function verify(bytes calldata proof, bytes32[] calldata publicInputs) external view returns (bool);
}
