// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {PoolBase} from "./PoolBase.sol";
import {console} from "./utils/TestBase.sol";
import {Pool} from "../src/Pool.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// The C++ payment layer (src/chain/payment.cpp) against independent implementations, on random
/// messages: build/fixtures/payments.json (written by bucketpay-fixtures at build time) holds random
/// payments under random domains (chain id, pool address) with the C++ domain separator, struct
/// hash and digest, and a signature by the auth key the C++ derived from a random (sk, cm).
///
///   {"vectors": [{"chain_id": "0x<32 bytes>", "pool": "0x<20 bytes>", "nullifiers": ["0x..", ...],
///                 "recipient": "0x<20>", "fee": "0x..", "fee_recipient": "0x<20>", "deadline": "0x..",
///                 "domain_separator": "0x..", "struct_hash": "0x..", "digest": "0x..",
///                 "sk": "0x..", "cm": "0x..", "auth": "0x<20>", "signature": "0x<65 bytes>"}, ...]}
///
/// For each: the Pool's own paymentDigest and domainSeparator (its runtime code placed at the
/// vector's pool address, on the vector's chain id), forge's EIP-712 (`eip712HashTypedData` from the
/// typed-data JSON, `eip712HashStruct`) and a plain keccak of the encoding all give the C++ values;
/// the auth key recomputed here in Solidity (keccak, mod n - 1, + 1) has the C++ address (forge's
/// `vm.addr`); the C++ signature recovers to it with ecrecover and OpenZeppelin's ECDSA, and is
/// exactly forge's `vm.sign` of the digest with that key (both RFC 6979, low s).
contract PaymentVectorsTest is PoolBase {
    struct Vector {
        uint256 chainId;
        address pool;
        Pool.Payment payment;
        bytes32 domainSeparator;
        bytes32 structHash;
        bytes32 digest;
        uint256 sk;
        uint256 cm;
        address auth;
        bytes signature;
    }

    function _vector(string memory json, uint256 i) internal pure returns (Vector memory v) {
        string memory k = at(".vectors", i);
        v.chainId = vm.parseJsonUint(json, string.concat(k, ".chain_id"));
        v.pool = vm.parseJsonAddress(json, string.concat(k, ".pool"));
        v.payment.nullifiers = vm.parseJsonUintArray(json, string.concat(k, ".nullifiers"));
        v.payment.recipient = vm.parseJsonAddress(json, string.concat(k, ".recipient"));
        v.payment.fee = vm.parseJsonUint(json, string.concat(k, ".fee"));
        v.payment.feeRecipient = vm.parseJsonAddress(json, string.concat(k, ".fee_recipient"));
        v.payment.deadline = vm.parseJsonUint(json, string.concat(k, ".deadline"));
        v.domainSeparator = vm.parseJsonBytes32(json, string.concat(k, ".domain_separator"));
        v.structHash = vm.parseJsonBytes32(json, string.concat(k, ".struct_hash"));
        v.digest = vm.parseJsonBytes32(json, string.concat(k, ".digest"));
        v.sk = vm.parseJsonUint(json, string.concat(k, ".sk"));
        v.cm = vm.parseJsonUint(json, string.concat(k, ".cm"));
        v.auth = vm.parseJsonAddress(json, string.concat(k, ".auth"));
        v.signature = vm.parseJsonBytes(json, string.concat(k, ".signature"));
    }

    /// docs/protocol.md: a = 1 + (k mod (n - 1)), k = keccak256("bucketpay.auth.v2" || be32(sk) || be32(cm)).
    function _authKey(uint256 sk, uint256 cm) internal pure returns (uint256) {
        return 1 + uint256(keccak256(abi.encodePacked("bucketpay.auth.v2", sk, cm))) % (N - 1);
    }

    function test_cppPaymentsMatchThePoolAndForge() public {
        string memory json = fixtureOrSkip("payments.json");
        if (bytes(json).length == 0) return;
        uint256 n = jsonLength(json, ".vectors");
        vm.assertGe(n, 16);
        bytes memory runtime = address(pool).code;
        uint256 chain = block.chainid;
        uint256 empty = 0;
        for (uint256 i = 0; i < n; ++i) {
            Vector memory v = _vector(json, i);
            if (v.payment.nullifiers.length == 0) ++empty;

            // The Pool, at the vector's address on the vector's chain.
            vm.chainId(v.chainId);
            vm.etch(v.pool, runtime);
            Pool at_ = Pool(v.pool);
            vm.assertEq(at_.domainSeparator(), v.domainSeparator, "domain separator");
            vm.assertEq(at_.paymentDigest(v.payment), v.digest, "Pool.paymentDigest");
            // forge's EIP-712, and the encoding written out.
            vm.assertEq(vm.eip712HashTypedData(typedDataJson(v.payment, v.pool)), v.digest, "eip712HashTypedData");
            vm.assertEq(forgeStructHash(v.payment), v.structHash, "eip712HashStruct");
            vm.assertEq(
                keccak256(abi.encodePacked(hex"1901", v.domainSeparator, v.structHash)), v.digest, "0x1901 digest"
            );

            // The auth key and the signature.
            vm.assertLt(v.sk, P);
            vm.assertLt(v.cm, P);
            uint256 key = _authKey(v.sk, v.cm);
            vm.assertEq(vm.addr(key), v.auth, "auth address");
            vm.assertEq(v.signature.length, 65);
            vm.assertEq(ECDSA.recover(v.digest, v.signature), v.auth, "OpenZeppelin ECDSA.recover");
            (bytes32 r, bytes32 s) = (bytes32(_slice(v.signature, 0)), bytes32(_slice(v.signature, 32)));
            uint8 sv = uint8(v.signature[64]);
            vm.assertEq(ecrecover(v.digest, sv, r, s), v.auth, "ecrecover");
            (uint8 fv, bytes32 fr, bytes32 fs) = vm.sign(key, v.digest);
            vm.assertEq(abi.encodePacked(fr, fs, fv), v.signature);
        }
        vm.chainId(chain);
        vm.assertGe(empty, 1); // the empty nullifier list is among them
        console.log("payment vectors checked:", n);
    }

    function _slice(bytes memory b, uint256 at_) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), at_))
        }
    }
}
