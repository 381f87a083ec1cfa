// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TxGas} from "./utils/TxGas.sol";
import {Pool} from "../src/Pool.sol";

/// What the Pool's tests share to call spendBatch: a spend proof with its public inputs as one item
/// (as the tests build them), handed to Pool.spendBatch as its separate `proofs` and `spends`.
abstract contract PoolCalls is TxGas {
    Pool internal pool;

    struct SpendProof {
        bytes proof;
        uint256 root;
        uint256 nullifier;
        uint256 value;
        address auth;
    }

    /// pool.spendBatch(proofs, inputs, p, sigs) of `spends`. Makes no other external call first, so
    /// a vm.prank or vm.expectRevert before it applies to the pool's call.
    function spendBatch(SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs) internal {
        (bytes[] memory proofs, Pool.SpendInputs[] memory inputs) = proofsAndInputs(spends);
        pool.spendBatch(proofs, inputs, p, sigs);
    }

    /// The calldata of pool.spendBatch for `spends`.
    function spendBatchCalldata(SpendProof[] memory spends, Pool.Payment memory p, bytes[] memory sigs)
        internal
        pure
        returns (bytes memory)
    {
        (bytes[] memory proofs, Pool.SpendInputs[] memory inputs) = proofsAndInputs(spends);
        return abi.encodeCall(Pool.spendBatch, (proofs, inputs, p, sigs));
    }

    /// The proofs and the public inputs of `spends`, as spendBatch takes them.
    function proofsAndInputs(SpendProof[] memory spends)
        internal
        pure
        returns (bytes[] memory proofs, Pool.SpendInputs[] memory inputs)
    {
        proofs = new bytes[](spends.length);
        inputs = new Pool.SpendInputs[](spends.length);
        for (uint256 i = 0; i < spends.length; ++i) {
            proofs[i] = spends[i].proof;
            inputs[i] = Pool.SpendInputs(spends[i].root, spends[i].nullifier, spends[i].value, spends[i].auth);
        }
    }
}
