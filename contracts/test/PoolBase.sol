// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TxGas} from "./utils/TxGas.sol";
import {MockVerifier} from "./utils/MockVerifier.sol";
import {Pool} from "../src/Pool.sol";
import {IProofVerifier} from "../src/IProofVerifier.sol";
import {Poseidon2Ref} from "../src/Poseidon2Ref.sol";
import {TreeZeros} from "../src/TreeZeros.sol";
import {TestToken} from "../src/test/TestToken.sol";

/// Shared set-up: a TestToken, a Pool over it with mock verifiers, a funded depositor, and an
/// independent model of the tree (whole-tree recomputation with the reference Poseidon2).
abstract contract PoolBase is TxGas {
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant UNIT = 10_000; // cents of a 6-decimals dollar
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    TestToken internal token;
    MockVerifier internal spendV;
    MockVerifier internal splitV;
    Pool internal pool;

    event Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root);
    event Spent(uint256 indexed nullifier, address indexed recipient, uint256 value);
    event Split(uint256 indexed nullifier, address indexed recipient, uint256 amount, uint256 outCm1, uint256 outCm2);

    function setUp() public virtual {
        token = new TestToken();
        spendV = new MockVerifier();
        splitV = new MockVerifier();
        pool = new Pool(token, UNIT, IProofVerifier(address(spendV)), IProofVerifier(address(splitV)));
        token.mint(ALICE, 1e30);
        vm.prank(ALICE);
        token.approve(address(pool), type(uint256).max);
    }

    /// Root of the tree whose first leaves are `leaves` (the rest empty), recomputed from scratch
    /// level by level with Poseidon2Ref: no incremental state shared with the contract.
    function modelRoot(uint256[] memory leaves) internal pure returns (uint256) {
        uint256[] memory level = leaves;
        uint256 z = 0;
        for (uint256 k = 0; k < 16; ++k) {
            uint256 n = (level.length + 2) / 3;
            if (n == 0) n = 1;
            uint256[] memory up = new uint256[](n);
            for (uint256 i = 0; i < n; ++i) {
                uint256[3] memory c;
                for (uint256 j = 0; j < 3; ++j) {
                    uint256 idx = 3 * i + j;
                    c[j] = idx < level.length ? level[idx] : z;
                }
                up[i] = Poseidon2Ref.hash3(c[0], c[1], c[2]);
            }
            level = up;
            z = Poseidon2Ref.hash3(z, z, z);
        }
        return level[0];
    }

    function commitment(uint256 pk, uint256 value, uint256 r) internal pure returns (uint256) {
        return Poseidon2Ref.hash3(pk, value, r);
    }

    function spendInputs(uint256 root, uint256 nf, uint256 value, address to) internal pure returns (bytes32[] memory x) {
        x = new bytes32[](4);
        x[0] = bytes32(root);
        x[1] = bytes32(nf);
        x[2] = bytes32(value);
        x[3] = bytes32(uint256(uint160(to)));
    }

    function splitInputs(uint256 root, uint256 nf, uint256 amount, address to, uint256 cm1, uint256 cm2)
        internal
        pure
        returns (bytes32[] memory x)
    {
        x = new bytes32[](6);
        x[0] = bytes32(root);
        x[1] = bytes32(nf);
        x[2] = bytes32(amount);
        x[3] = bytes32(uint256(uint160(to)));
        x[4] = bytes32(cm1);
        x[5] = bytes32(cm2);
    }

    /// Deposits `values` (one note each, owner 7, r = 1000 + i) as Alice and returns their commitments.
    function depositAll(uint256[] memory values) internal returns (uint256[] memory cms) {
        cms = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            vm.prank(ALICE);
            pool.deposit(7, values[i], 1000 + i);
            cms[i] = commitment(7, values[i], 1000 + i);
        }
    }

    function zeros() internal pure returns (uint256[17] memory) {
        return TreeZeros.zeros();
    }
}
