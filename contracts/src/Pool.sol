// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IProofVerifier} from "./IProofVerifier.sol";
import {Poseidon2} from "./Poseidon2.sol";
import {TreeZeros} from "./TreeZeros.sol";

/// @title Pool: the shielded pool of bucketpay (docs/protocol.md, "Contract Pool").
/// @notice Holds one ERC20 token. Notes are commitments cm = H(pk, value, r) in a 3-ary Poseidon2
/// Merkle tree of depth 16; a note is spent by a zero-knowledge proof (UltraHonk, bb's Solidity
/// verifiers) that names its nullifier. Anyone may submit; funds go to the recipient bound in the proof.
///
/// Tree: leaves are appended left to right; leaf i's path is i in base 3, least significant digit
/// first; node = H(c0, c1, c2); empty subtrees Z_k (TreeZeros). Every root the pool ever had stays
/// valid forever (`isKnownRoot`), so a precomputed proof never expires while its note is unspent.
/// Several commitments inserted by one call (depositMany, split) are inserted as one batch: the tree
/// only ever has the root after the whole batch, which is the root their `Inserted` events carry.
///
/// @dev Token: a plain ERC20 (no fee on transfer, no rebasing): the pool pays out value * UNIT for
/// value * UNIT it received. Public inputs of the verifiers (field elements as bytes32):
/// spend [root, nullifier, value, recipient]; split [root, nullifier, amount, recipient, out_cm1, out_cm2],
/// recipient = uint160(address).
contract Pool is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// The BN254 scalar field modulus: every field element the pool takes must be below it.
    uint256 public constant FIELD_SIZE = Poseidon2.P;
    uint256 public constant DEPTH = TreeZeros.DEPTH;
    /// 3^16 leaves.
    uint256 public constant CAPACITY = 43_046_721;
    /// Values are integers below 2^64 (in units of UNIT).
    uint256 public constant MAX_VALUE = type(uint64).max;

    IERC20 public immutable TOKEN;
    /// Token base units per value unit (e.g. 10^4 for cents of a 6-decimals dollar token).
    uint256 public immutable UNIT;
    IProofVerifier public immutable SPEND_VERIFIER;
    IProofVerifier public immutable SPLIT_VERIFIER;
    /// The Poseidon2 hasher (raw bytecode, see Poseidon2.sol), deployed by the constructor.
    address public immutable HASHER;

    /// Number of leaves inserted; the next leaf's index.
    uint256 public nextIndex;
    /// The current root (also in isKnownRoot).
    uint256 public root;
    /// Every root the tree has had, including the empty tree's.
    mapping(uint256 root => bool) public isKnownRoot;
    /// Spent nullifiers.
    mapping(uint256 nullifier => bool) public isSpent;
    /// Per level, the complete left siblings (positions 0 and 1) of the node on the next leaf's path.
    /// Written only when a node becomes complete, so an insert writes about one slot on average.
    uint256[2][16] private _leftSiblings;

    /// One spend for `spendBatch`.
    struct SpendRequest {
        bytes proof;
        uint256 root;
        uint256 nullifier;
        uint256 value;
        address recipient;
    }

    /// A commitment was inserted at `leafIndex`; `root` is the tree's root after the call's inserts.
    event Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root);
    /// A note was spent by a `spend` proof; value * UNIT tokens went to `recipient`.
    event Spent(uint256 indexed nullifier, address indexed recipient, uint256 value);
    /// A note was spent by a `split` proof: `amount` paid out to `recipient` (if non-zero) and the
    /// non-zero outputs inserted (their `Inserted` events precede this one).
    event Split(uint256 indexed nullifier, address indexed recipient, uint256 amount, uint256 outCm1, uint256 outCm2);

    error ValueTooLarge(uint256 value);
    error ZeroRecipient();
    error NotAFieldElement(uint256 x);
    error LengthMismatch(uint256 a, uint256 b);
    error EmptyBatch();
    error UnknownRoot(uint256 root);
    error NullifierAlreadySpent(uint256 nullifier);
    error InvalidProof();
    error TreeFull();
    error InvalidUnit();
    error ZeroAddress();

    constructor(IERC20 token, uint256 unit, IProofVerifier spendVerifier, IProofVerifier splitVerifier) {
        if (address(token) == address(0) || address(spendVerifier) == address(0) || address(splitVerifier) == address(0))
        {
            revert ZeroAddress();
        }
        // value < 2^64 and unit < 2^128 keep value * unit and sums of them far from overflow.
        if (unit == 0 || unit >= 1 << 128) revert InvalidUnit();
        TOKEN = token;
        UNIT = unit;
        SPEND_VERIFIER = spendVerifier;
        SPLIT_VERIFIER = splitVerifier;
        HASHER = Poseidon2.deploy();
        root = TreeZeros.EMPTY_ROOT;
        isKnownRoot[TreeZeros.EMPTY_ROOT] = true;
    }

    // ------------------------------------------------------------------------------------ deposits

    /// Inserts cm = H(pk, value, r) and pulls value * UNIT tokens from the caller.
    function deposit(uint256 pk, uint256 value, uint256 r) external nonReentrant {
        uint256[] memory cms = new uint256[](1);
        cms[0] = _commitment(pk, value, r);
        _insert(cms);
        TOKEN.safeTransferFrom(msg.sender, address(this), value * UNIT);
    }

    /// Inserts one note per value, all owned by pk, and pulls the total in one transfer.
    function depositMany(uint256 pk, uint256[] calldata values, uint256[] calldata rs) external nonReentrant {
        uint256 n = values.length;
        if (n == 0) revert EmptyBatch();
        if (rs.length != n) revert LengthMismatch(n, rs.length);
        uint256[] memory cms = new uint256[](n);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            cms[i] = _commitment(pk, values[i], rs[i]);
            total += values[i];
        }
        _insert(cms);
        TOKEN.safeTransferFrom(msg.sender, address(this), total * UNIT);
    }

    // -------------------------------------------------------------------------------------- spends

    /// Spends one note with a `spend` proof and pays value * UNIT to `recipient`.
    function spend(bytes calldata proof, uint256 root_, uint256 nullifier, uint256 value, address recipient)
        external
        nonReentrant
    {
        _checkSpend(proof, root_, nullifier, value, recipient);
        isSpent[nullifier] = true;
        emit Spent(nullifier, recipient, value);
        TOKEN.safeTransfer(recipient, value * UNIT);
    }

    /// Spends several notes at once (a payment of several buckets). All or nothing: one bad item
    /// reverts the batch, as does a nullifier appearing twice. Consecutive items paying the same
    /// recipient are paid with one transfer.
    function spendBatch(SpendRequest[] calldata requests) external nonReentrant {
        uint256 n = requests.length;
        if (n == 0) revert EmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            SpendRequest calldata q = requests[i];
            _checkSpend(q.proof, q.root, q.nullifier, q.value, q.recipient);
            // Marking at once makes a repeated nullifier later in the batch fail its check.
            isSpent[q.nullifier] = true;
            emit Spent(q.nullifier, q.recipient, q.value);
        }
        address to = requests[0].recipient;
        uint256 sum = 0;
        for (uint256 i = 0; i < n; ++i) {
            SpendRequest calldata q = requests[i];
            if (q.recipient != to) {
                TOKEN.safeTransfer(to, sum * UNIT);
                to = q.recipient;
                sum = 0;
            }
            sum += q.value;
        }
        TOKEN.safeTransfer(to, sum * UNIT);
    }

    /// Spends one note with a `split` proof: inserts the non-zero outputs and pays amount * UNIT to
    /// `recipient` when amount > 0 (a recipient is then required).
    function split(
        bytes calldata proof,
        uint256 root_,
        uint256 nullifier,
        uint256 amount,
        address recipient,
        uint256 outCm1,
        uint256 outCm2
    ) external nonReentrant {
        if (amount > MAX_VALUE) revert ValueTooLarge(amount);
        if (amount != 0 && recipient == address(0)) revert ZeroRecipient();
        if (outCm1 >= FIELD_SIZE) revert NotAFieldElement(outCm1);
        if (outCm2 >= FIELD_SIZE) revert NotAFieldElement(outCm2);
        _checkRootAndNullifier(root_, nullifier);
        bytes32[] memory inputs = new bytes32[](6);
        inputs[0] = bytes32(root_);
        inputs[1] = bytes32(nullifier);
        inputs[2] = bytes32(amount);
        inputs[3] = bytes32(uint256(uint160(recipient)));
        inputs[4] = bytes32(outCm1);
        inputs[5] = bytes32(outCm2);
        _verify(SPLIT_VERIFIER, proof, inputs);

        isSpent[nullifier] = true;
        uint256 outs = (outCm1 != 0 ? 1 : 0) + (outCm2 != 0 ? 1 : 0);
        if (outs != 0) {
            uint256[] memory cms = new uint256[](outs);
            uint256 k = 0;
            if (outCm1 != 0) cms[k++] = outCm1;
            if (outCm2 != 0) cms[k] = outCm2;
            _insert(cms);
        }
        emit Split(nullifier, recipient, amount, outCm1, outCm2);
        if (amount != 0) TOKEN.safeTransfer(recipient, amount * UNIT);
    }

    // -------------------------------------------------------------------------------------- checks

    function _commitment(uint256 pk, uint256 value, uint256 r) private view returns (uint256) {
        if (pk >= FIELD_SIZE) revert NotAFieldElement(pk);
        if (r >= FIELD_SIZE) revert NotAFieldElement(r);
        if (value > MAX_VALUE) revert ValueTooLarge(value);
        return Poseidon2.hash3(HASHER, pk, value, r);
    }

    function _checkRootAndNullifier(uint256 root_, uint256 nullifier) private view {
        // Every public input must be canonical, or x + p could pass a verifier that reduces its
        // inputs (a second nullifier for one note). Known roots are hash outputs, hence < p; a root
        // >= p is rejected as such rather than as merely unknown.
        if (root_ >= FIELD_SIZE) revert NotAFieldElement(root_);
        if (nullifier >= FIELD_SIZE) revert NotAFieldElement(nullifier);
        if (!isKnownRoot[root_]) revert UnknownRoot(root_);
        if (isSpent[nullifier]) revert NullifierAlreadySpent(nullifier);
    }

    function _checkSpend(bytes calldata proof, uint256 root_, uint256 nullifier, uint256 value, address recipient)
        private
        view
    {
        if (value > MAX_VALUE) revert ValueTooLarge(value);
        if (recipient == address(0)) revert ZeroRecipient();
        _checkRootAndNullifier(root_, nullifier);
        bytes32[] memory inputs = new bytes32[](4);
        inputs[0] = bytes32(root_);
        inputs[1] = bytes32(nullifier);
        inputs[2] = bytes32(value);
        inputs[3] = bytes32(uint256(uint160(recipient)));
        _verify(SPEND_VERIFIER, proof, inputs);
    }

    /// Reverts with InvalidProof unless the verifier returns true (bb's verifiers revert with their
    /// own errors on malformed proofs; those become InvalidProof too).
    function _verify(IProofVerifier verifier, bytes calldata proof, bytes32[] memory inputs) private view {
        try verifier.verify(proof, inputs) returns (bool ok) {
            if (!ok) revert InvalidProof();
        } catch {
            revert InvalidProof();
        }
    }

    // ---------------------------------------------------------------------------------------- tree

    /// Appends `leaves` (in order) and records the new root. At each level the new nodes form one
    /// contiguous run [start, last]; a parent's children left of the run are complete nodes kept in
    /// _leftSiblings, those right of it are empty subtrees.
    function _insert(uint256[] memory leaves) private {
        uint256 first = nextIndex;
        uint256 end = first + leaves.length; // the next leaf index after this batch
        if (end > CAPACITY) revert TreeFull();
        uint256[17] memory zeros = TreeZeros.zeros();

        uint256[] memory level = leaves;
        uint256 start = first; // index of level[0] at the current level
        uint256 next = end; // index, at the current level, of the node on the next leaf's path
        for (uint256 k = 0; k < DEPTH; ++k) {
            uint256 last = start + level.length - 1;
            uint256 pStart = start / 3;
            uint256 pLast = last / 3;
            uint256[] memory parents = new uint256[](pLast - pStart + 1);
            uint256 z = zeros[k];
            for (uint256 p = pStart; p <= pLast; ++p) {
                uint256 base = 3 * p;
                uint256[3] memory c;
                for (uint256 j = 0; j < 3; ++j) {
                    uint256 idx = base + j;
                    if (idx < start) c[j] = _leftSiblings[k][j];
                    else if (idx <= last) c[j] = level[idx - start];
                    else c[j] = z;
                }
                parents[p - pStart] = Poseidon2.hash3(HASHER, c[0], c[1], c[2]);
            }
            // Keep the complete left siblings of the next leaf's path node (only those in this run:
            // the ones before `start` were kept when they became complete). After the reads above.
            uint256 pos = next % 3;
            for (uint256 j = 0; j < pos; ++j) {
                uint256 idx = next - pos + j;
                if (idx >= start) _leftSiblings[k][j] = level[idx - start];
            }
            level = parents;
            start = pStart;
            next /= 3;
        }
        uint256 newRoot = level[0];
        nextIndex = end;
        root = newRoot;
        isKnownRoot[newRoot] = true;
        for (uint256 i = 0; i < leaves.length; ++i) {
            emit Inserted(leaves[i], first + i, newRoot);
        }
    }
}
