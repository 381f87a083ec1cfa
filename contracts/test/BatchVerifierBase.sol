// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {console} from "./utils/TestBase.sol";
import {TxGas} from "./utils/TxGas.sol";

/// The generated batch verifier's interface (src/generated/BatchSpendVerifier.sol).
interface IBatchVerifier {
    function verifyBatch(bytes[] calldata proofs, bytes32[][] calldata publicInputs) external view returns (bool);
    function LOG_CIRCUIT_SIZE() external view returns (uint256);
    function NUMBER_OF_PUBLIC_INPUTS() external view returns (uint256);
    function PROOF_SIZE() external view returns (uint256);
}

/// bb's verifiers (src/generated/SpendVerifier.sol, the reference).
interface IHonkVerifier {
    function verify(bytes calldata proof, bytes32[] calldata publicInputs) external view returns (bool);
}

/// Shared setup of the batch verifier's tests: bb's verifier (the reference), the batch verifier
/// and the real spend proofs of build/fixtures/proofs.json (written by `bucketpay-fixtures --proofs`,
/// format in PoolProofs.t.sol). Every test skips, saying why, when the fixture or a generated
/// contract is missing.
abstract contract BatchVerifierBase is TxGas {
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant Q = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;

    IHonkVerifier internal bb;
    IBatchVerifier internal batch;
    bytes[] internal proofs;
    bytes32[][] internal inputs;
    string internal missing;

    function setUp() public virtual {
        string memory json = readFixture("proofs.json");
        if (bytes(json).length == 0) {
            missing = string.concat(fixturesDir(), "/proofs.json (written by bucketpay-fixtures --proofs)");
            return;
        }
        bb = IHonkVerifier(_deploy("SpendVerifier.sol:SpendVerifier"));
        batch = IBatchVerifier(_deploy("BatchSpendVerifier.sol:BatchSpendVerifier"));
        if (address(bb) == address(0) || address(batch) == address(0)) {
            missing =
            "src/generated/{Spend,BatchSpend}Verifier.sol (scripts/gen_verifiers.sh build/circuits src/generated)";
            return;
        }
        for (uint256 i = 0; vm.keyExistsJson(json, at(".spend", i)); ++i) {
            string memory k = at(".spend", i);
            proofs.push(vm.parseJsonBytes(json, string.concat(k, ".proof")));
            inputs.push(vm.parseJsonBytes32Array(json, string.concat(k, ".public_inputs")));
        }
    }

    function _deploy(string memory artifact) internal returns (address a) {
        try vm.deployCode(artifact) returns (address x) {
            a = x;
        } catch {
            a = address(0);
        }
    }

    /// Skips the running test (with the reason) when a fixture or a verifier is missing.
    function _ready(uint256 proofsNeeded) internal returns (bool) {
        if (bytes(missing).length == 0 && proofs.length < proofsNeeded) {
            missing = string.concat(
                "spend proofs in proofs.json: ", vm.toString(proofs.length), " < ", vm.toString(proofsNeeded)
            );
        }
        if (bytes(missing).length == 0) return true;
        string memory why = string.concat("missing ", missing);
        console.log(why);
        vm.skip(true, why);
        return false;
    }

    // ------------------------------------------------------------------------------ verdicts
    /// Gas given to one verifier call. bb's verifier forwards all its gas to the precompiles, and a
    /// failing precompile (a point off the curve) consumes all of it: capped, a rejected proof
    /// cannot starve the calls after it.
    uint256 internal constant CALL_GAS = 30_000_000;

    /// bb's verdict: true iff verify() returns true (it reverts on every invalid proof).
    function _bbAccepts(bytes memory proof, bytes32[] memory pis) internal view returns (bool) {
        (bool ok, bytes memory ret) =
            address(bb).staticcall{gas: CALL_GAS}(abi.encodeCall(IHonkVerifier.verify, (proof, pis)));
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }

    /// The batch verifier's verdict and its revert data (empty when it accepted).
    function _batchVerdict(bytes[] memory ps, bytes32[][] memory pis)
        internal
        view
        returns (bool accepted, bytes memory err)
    {
        (bool ok, bytes memory ret) =
            address(batch).staticcall{gas: CALL_GAS}(abi.encodeCall(IBatchVerifier.verifyBatch, (ps, pis)));
        accepted = ok && ret.length == 32 && abi.decode(ret, (bool));
        err = ok ? bytes("") : ret;
    }

    function _batchAccepts(bytes[] memory ps, bytes32[][] memory pis) internal view returns (bool accepted) {
        (accepted,) = _batchVerdict(ps, pis);
    }

    /// Proofs first..first+k-1 (mod the number of fixtures) and their public inputs, copied.
    function _slice(uint256 first, uint256 k) internal view returns (bytes[] memory ps, bytes32[][] memory pis) {
        ps = new bytes[](k);
        pis = new bytes32[][](k);
        for (uint256 i = 0; i < k; ++i) {
            uint256 j = (first + i) % proofs.length;
            ps[i] = bytes.concat(proofs[j]);
            pis[i] = new bytes32[](inputs[j].length);
            for (uint256 t = 0; t < inputs[j].length; ++t) {
                pis[i][t] = inputs[j][t];
            }
        }
    }

    function _copy(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = a[i];
        }
    }

    /// Loops over many batches would otherwise grow memory without bound (quadratic gas): the
    /// body's allocations are dropped by resetting the free-memory pointer to a mark taken before.
    function _memoryMark() internal pure returns (uint256 mark) {
        assembly {
            mark := mload(0x40)
        }
    }

    function _memoryRelease(uint256 mark) internal pure {
        assembly {
            mstore(0x40, mark)
        }
    }

    // ------------------------------------------------------------------------------ proof words
    function _word(bytes memory b, uint256 off) internal pure returns (uint256 v) {
        assembly {
            v := mload(add(add(b, 0x20), off))
        }
    }

    function _setWord(bytes memory b, uint256 off, uint256 v) internal pure {
        assembly {
            mstore(add(add(b, 0x20), off), v)
        }
    }

    /// A pseudo-random word from a seed and a counter.
    function _rand(uint256 seed, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, n)));
    }

    /// s * G on BN254 G1, computed by the ecMul precompile (a point that is on the curve).
    function _g1Mul(uint256 s) internal view returns (uint256 x, uint256 y) {
        (bool ok, bytes memory ret) = address(7).staticcall(abi.encode(uint256(1), uint256(2), s));
        require(ok, "ecMul");
        (x, y) = abi.decode(ret, (uint256, uint256));
    }
}
