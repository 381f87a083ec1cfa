// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {PoolCalls} from "./PoolCalls.sol";
import {MockVerifier} from "./utils/MockVerifier.sol";
import {Pool} from "../src/Pool.sol";
import {IBatchProofVerifier} from "../src/IBatchProofVerifier.sol";
import {Poseidon2Ref} from "../src/Poseidon2Ref.sol";
import {TreeZeros} from "../src/TreeZeros.sol";
import {TestToken} from "../src/test/TestToken.sol";

/// Shared set-up: a TestToken, a Pool over it with mock verifiers, a funded depositor, an
/// independent model of the tree (whole-tree recomputation with the reference Poseidon2), auth keys
/// and EIP-712 payments signed with forge's `vm.sign`.
abstract contract PoolBase is PoolCalls {
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// The secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant UNIT = 10_000; // cents of a 6-decimals dollar
    uint256 internal constant NOW = 1_750_000_000;
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant RELAYER = address(0x4E1A7);
    address internal constant CAROL = address(0xCA401);

    TestToken internal token;
    MockVerifier internal spendV;
    MockVerifier internal splitV;

    event Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root);
    event Spent(uint256 indexed nullifier, bytes32 indexed payment);
    event Paid(
        bytes32 indexed payment, address indexed recipient, uint256 amount, address indexed feeRecipient, uint256 fee
    );

    function setUp() public virtual {
        vm.warp(NOW);
        token = new TestToken();
        spendV = new MockVerifier();
        splitV = new MockVerifier();
        pool = new Pool(token, UNIT, IBatchProofVerifier(address(spendV)), IBatchProofVerifier(address(splitV)));
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

    /// cm = H(owner, value).
    function commitment(uint256 owner, uint256 value) internal pure returns (uint256) {
        return Poseidon2Ref.hash2(owner, value);
    }

    function spendInputs(uint256 root, uint256 nf, uint256 value, address auth)
        internal
        pure
        returns (bytes32[] memory x)
    {
        x = new bytes32[](4);
        x[0] = bytes32(root);
        x[1] = bytes32(nf);
        x[2] = bytes32(value);
        x[3] = bytes32(uint256(uint160(auth)));
    }

    function splitInputs(Pool.SplitProof memory s) internal pure returns (bytes32[] memory x) {
        x = new bytes32[](12);
        x[0] = bytes32(s.root);
        x[1] = bytes32(s.nullifier);
        x[2] = bytes32(s.amount);
        x[3] = bytes32(uint256(uint160(s.auth)));
        for (uint256 i = 0; i < 8; ++i) {
            x[4 + i] = bytes32(s.outCms[i]);
        }
    }

    /// Deposits `values` (one note each, owner 1000 + i) as Alice and returns their commitments.
    function depositAll(uint256[] memory values) internal returns (uint256[] memory cms) {
        cms = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            vm.prank(ALICE);
            pool.deposit(1000 + i, values[i]);
            cms[i] = commitment(1000 + i, values[i]);
        }
    }

    function zeros() internal pure returns (uint256[17] memory) {
        return TreeZeros.zeros();
    }

    // -------------------------------------------------------------------------------- payments

    /// A throwaway auth key (1 <= key < n) per seed.
    function authKey(uint256 seed) internal pure returns (uint256) {
        return 1 + uint256(keccak256(abi.encode("auth key", seed))) % (N - 1);
    }

    /// A payment of `nfs` to `to` with `fee` to `feeTo`, valid for an hour.
    function payment(uint256[] memory nfs, address to, uint256 fee, address feeTo)
        internal
        view
        returns (Pool.Payment memory)
    {
        return Pool.Payment(nfs, to, fee, feeTo, block.timestamp + 1 hours);
    }

    function one(uint256 nf) internal pure returns (uint256[] memory nfs) {
        nfs = new uint256[](1);
        nfs[0] = nf;
    }

    /// r || s || v of `key`'s signature of `digest` (forge's signer: RFC 6979, low s).
    function sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// Every key of `keys` signs the pool's digest of `p`.
    function signAll(uint256[] memory keys, Pool.Payment memory p) internal view returns (bytes[] memory sigs) {
        bytes32 d = pool.paymentDigest(p);
        sigs = new bytes[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) {
            sigs[i] = sign(keys[i], d);
        }
    }

    /// The EIP-712 typed data of `p` under `pool_`'s domain on this chain, as JSON for forge's
    /// `vm.eip712HashTypedData` (an implementation independent of the Pool's).
    function typedDataJson(Pool.Payment memory p, address pool_) internal view returns (string memory) {
        string memory nfs = "[";
        for (uint256 i = 0; i < p.nullifiers.length; ++i) {
            nfs = string.concat(nfs, i == 0 ? "" : ",", "\"", vm.toString(p.nullifiers[i]), "\"");
        }
        nfs = string.concat(nfs, "]");
        string memory types = string.concat(
            "{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":\"string\"},",
            "{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":\"verifyingContract\",\"type\":\"address\"}],",
            "\"Payment\":[{\"name\":\"nullifiers\",\"type\":\"uint256[]\"},{\"name\":\"recipient\",\"type\":\"address\"},",
            "{\"name\":\"fee\",\"type\":\"uint256\"},{\"name\":\"feeRecipient\",\"type\":\"address\"},",
            "{\"name\":\"deadline\",\"type\":\"uint256\"}]}"
        );
        string memory domain = string.concat(
            "{\"name\":\"bucketpay\",\"version\":\"2\",\"chainId\":\"",
            vm.toString(block.chainid),
            "\",\"verifyingContract\":\"",
            vm.toString(pool_),
            "\"}"
        );
        string memory message = string.concat(
            "{\"nullifiers\":",
            nfs,
            ",\"recipient\":\"",
            vm.toString(p.recipient),
            "\",\"fee\":\"",
            vm.toString(p.fee),
            "\",\"feeRecipient\":\"",
            vm.toString(p.feeRecipient),
            "\",\"deadline\":\"",
            vm.toString(p.deadline),
            "\"}"
        );
        return string.concat(
            "{\"types\":", types, ",\"primaryType\":\"Payment\",\"domain\":", domain, ",\"message\":", message, "}"
        );
    }

    /// The struct hash of `p` by forge's `vm.eip712HashStruct`.
    function forgeStructHash(Pool.Payment memory p) internal pure returns (bytes32) {
        return vm.eip712HashStruct(
            "Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,uint256 deadline)",
            abi.encode(p)
        );
    }
}
