// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IBatchProofVerifier} from "./IBatchProofVerifier.sol";
import {Poseidon2} from "./Poseidon2.sol";
import {TreeZeros} from "./TreeZeros.sol";

/// @title Pool: the shielded pool of bucketpay, protocol v2 (docs/protocol.md, "Contract Pool").
/// @notice Holds one ERC20 token. Notes are commitments cm = H(owner, value) with a hidden owner
/// H(pk, r), in a 3-ary Poseidon2 Merkle tree of depth 16; a note is spent by a zero-knowledge proof
/// (UltraHonk, made by bb) that names its nullifier and binds the address `auth` of the
/// note's one-time spend authorization key; a spendBatch's proofs are verified together by one
/// call of a batch verifier (docs/batch-verifier.md), a split's by the same kind with one proof.
/// What a spend pays, to whom, with which relayer fee and until when is an EIP-712 `Payment` signed
/// by the auth key of every note it spends, so proofs are made before the payee is known and anyone
/// may submit: a copy of a bundle can only pay the same people the same amounts.
///
/// Tree: leaves are appended left to right; leaf i's path is i in base 3, least significant digit
/// first; node = H(c0, c1, c2); empty subtrees Z_k (TreeZeros). Every root the pool ever had stays
/// valid forever (`isKnownRoot`), so a precomputed proof never expires while its note is unspent.
/// Several commitments inserted by one call (depositMany, split) are inserted as one batch: the tree
/// only ever has the root after the whole batch, which is the root their `Inserted` events carry.
///
/// @dev Token: a plain ERC20 (no fee on transfer, no rebasing): the pool pays out value * UNIT for
/// value * UNIT it received. The verifiers are the generated batch verifiers (IBatchProofVerifier):
/// BatchSpendVerifier and BatchSplitVerifier. Public inputs (field elements as bytes32):
/// spend [root, nullifier, value, auth]; split [root, nullifier, amount, auth, outCms[0..7]],
/// auth = uint160(address).
contract Pool is ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    /// The BN254 scalar field modulus: every field element the pool takes must be below it.
    uint256 public constant FIELD_SIZE = Poseidon2.P;
    uint256 public constant DEPTH = TreeZeros.DEPTH;
    /// 3^16 leaves.
    uint256 public constant CAPACITY = 43_046_721;
    /// Values are integers below 2^64 (in units of UNIT).
    uint256 public constant MAX_VALUE = type(uint64).max;
    /// Outputs of a split (absent ones have commitment 0).
    uint256 public constant SPLIT_OUTPUTS = 8;
    /// EIP-712 type of a payment; nullifiers are the notes it spends, in the order of the proofs.
    bytes32 public constant PAYMENT_TYPEHASH = keccak256(
        "Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,uint256 deadline)"
    );

    IERC20 public immutable TOKEN;
    /// Token base units per value unit (e.g. 10^4 for cents of a 6-decimals dollar token).
    uint256 public immutable UNIT;
    /// Verifies a spendBatch's proofs in one call (BatchSpendVerifier).
    IBatchProofVerifier public immutable SPEND_VERIFIER;
    /// Verifies a split's proof (BatchSplitVerifier with one proof: cheaper than bb's SplitVerifier).
    IBatchProofVerifier public immutable SPLIT_VERIFIER;
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

    /// The public inputs of one `spend` proof (its proof travels in spendBatch's `proofs`).
    struct SpendInputs {
        uint256 root;
        uint256 nullifier;
        uint256 value;
        address auth;
    }

    /// A `split` proof and its public inputs; outCms[i] = 0 for an absent output.
    struct SplitProof {
        bytes proof;
        uint256 root;
        uint256 nullifier;
        uint256 amount;
        address auth;
        uint256[8] outCms;
    }

    /// What a spendBatch or split pays: sum(values) * UNIT - fee to `recipient` and `fee` (token
    /// base units) to `feeRecipient`, valid while block.timestamp <= deadline (Unix seconds).
    struct Payment {
        uint256[] nullifiers;
        address recipient;
        uint256 fee;
        address feeRecipient;
        uint256 deadline;
    }

    /// A commitment was inserted at `leafIndex`; `root` is the tree's root after the call's inserts.
    event Inserted(uint256 indexed commitment, uint256 leafIndex, uint256 root);
    /// A note was spent (by spendBatch or split) for the payment with EIP-712 digest `payment`.
    event Spent(uint256 indexed nullifier, bytes32 indexed payment);
    /// The payment `payment` paid `amount` (token base units) to `recipient` and `fee` to `feeRecipient`.
    event Paid(
        bytes32 indexed payment, address indexed recipient, uint256 amount, address indexed feeRecipient, uint256 fee
    );

    error ValueTooLarge(uint256 value);
    error ZeroValue();
    error ZeroRecipient();
    error ZeroFeeRecipient();
    error NotAFieldElement(uint256 x);
    error LengthMismatch(uint256 a, uint256 b);
    error EmptyBatch();
    error UnknownRoot(uint256 root);
    error NullifierAlreadySpent(uint256 nullifier);
    error InvalidProof();
    error TreeFull();
    error InvalidUnit();
    error ZeroAddress();
    error PaymentExpired(uint256 deadline);
    error PaymentMismatch(uint256 index);
    error WrongSigner(uint256 index);
    error FeeTooHigh(uint256 fee, uint256 amount);
    error ZeroAuth(uint256 index);

    constructor(IERC20 token, uint256 unit, IBatchProofVerifier spendVerifier, IBatchProofVerifier splitVerifier)
        EIP712("bucketpay", "2")
    {
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

    /// Inserts cm = H(owner, value) and pulls value * UNIT tokens from the caller. owner = H(pk, r)
    /// is the note's hidden owner; 0 < value < 2^64.
    function deposit(uint256 owner, uint256 value) external nonReentrant {
        uint256[] memory cms = new uint256[](1);
        cms[0] = _commitment(owner, value);
        _insert(cms);
        TOKEN.safeTransferFrom(msg.sender, address(this), value * UNIT);
    }

    /// Inserts one note per (owners[i], values[i]) in order and pulls the total in one transfer.
    function depositMany(uint256[] calldata owners, uint256[] calldata values) external nonReentrant {
        uint256 n = owners.length;
        if (n == 0) revert EmptyBatch();
        if (values.length != n) revert LengthMismatch(n, values.length);
        uint256[] memory cms = new uint256[](n);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            cms[i] = _commitment(owners[i], values[i]);
            total += values[i];
        }
        _insert(cms);
        TOKEN.safeTransferFrom(msg.sender, address(this), total * UNIT);
    }

    // -------------------------------------------------------------------------------------- spends

    /// Spends the notes of `spends` for `payment`, which every note's auth key signed
    /// (signatures[i] by spends[i].auth: 65 bytes r || s || v, low s); proofs[i] is spends[i]'s
    /// proof. All or nothing: one bad item reverts the batch, as does a nullifier appearing twice.
    /// Every check of the Pool's own comes first; then all proofs are verified by one call of
    /// SPEND_VERIFIER.verifyBatch, with `proofs` forwarded as they came. Pays sum(values) * UNIT - fee
    /// to the recipient and the fee to the fee recipient, whoever sends the transaction.
    function spendBatch(
        bytes[] calldata proofs,
        SpendInputs[] calldata spends,
        Payment calldata payment,
        bytes[] calldata signatures
    ) external nonReentrant {
        uint256 n = spends.length;
        if (n == 0) revert EmptyBatch();
        if (proofs.length != n) revert LengthMismatch(n, proofs.length);
        if (payment.nullifiers.length != n) revert LengthMismatch(n, payment.nullifiers.length);
        if (signatures.length != n) revert LengthMismatch(n, signatures.length);
        bytes32 digest = _checkPayment(payment);
        bytes32[][] memory inputs = new bytes32[][](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            SpendInputs calldata q = spends[i];
            if (payment.nullifiers[i] != q.nullifier) revert PaymentMismatch(i);
            if (q.value > MAX_VALUE) revert ValueTooLarge(q.value);
            if (q.value == 0) revert ZeroValue();
            _checkRootAndNullifier(q.root, q.nullifier);
            _checkSigner(digest, q.auth, signatures[i], i);
            bytes32[] memory x = new bytes32[](4);
            x[0] = bytes32(q.root);
            x[1] = bytes32(q.nullifier);
            x[2] = bytes32(q.value);
            x[3] = bytes32(uint256(uint160(q.auth)));
            inputs[i] = x;
            // Marking at once makes a repeated nullifier later in the batch fail its check (the
            // verifier accepts a batch holding one proof twice).
            isSpent[q.nullifier] = true;
            emit Spent(q.nullifier, digest);
            total += q.value;
        }
        total *= UNIT;
        if (payment.fee > total) revert FeeTooHigh(payment.fee, total);
        try SPEND_VERIFIER.verifyBatch(proofs, inputs) returns (bool ok) {
            if (!ok) revert InvalidProof();
        } catch {
            revert InvalidProof();
        }
        _pay(digest, payment, total);
    }

    /// Spends one note with a `split` proof for `payment` (payment.nullifiers == [s.nullifier],
    /// signed by s.auth): inserts the non-zero outCms in order as one batch, then pays
    /// amount * UNIT - fee to the recipient and the fee to the fee recipient. A rebalancing split
    /// withdraws exactly the relayer's fee (amount * UNIT == fee).
    function split(SplitProof calldata s, Payment calldata payment, bytes calldata signature) external nonReentrant {
        if (payment.nullifiers.length != 1) revert LengthMismatch(1, payment.nullifiers.length);
        if (payment.nullifiers[0] != s.nullifier) revert PaymentMismatch(0);
        bytes32 digest = _checkPayment(payment);
        if (s.amount > MAX_VALUE) revert ValueTooLarge(s.amount);
        if (payment.fee > s.amount * UNIT) revert FeeTooHigh(payment.fee, s.amount * UNIT);
        _checkRootAndNullifier(s.root, s.nullifier);
        _checkSigner(digest, s.auth, signature, 0);
        bytes32[] memory inputs = new bytes32[](4 + SPLIT_OUTPUTS);
        inputs[0] = bytes32(s.root);
        inputs[1] = bytes32(s.nullifier);
        inputs[2] = bytes32(s.amount);
        inputs[3] = bytes32(uint256(uint160(s.auth)));
        uint256 outs = 0;
        for (uint256 i = 0; i < SPLIT_OUTPUTS; ++i) {
            uint256 cm = s.outCms[i];
            if (cm >= FIELD_SIZE) revert NotAFieldElement(cm);
            inputs[4 + i] = bytes32(cm);
            if (cm != 0) ++outs;
        }
        // One proof through the batch verifier: at k = 1 it costs ~130k less than bb's verifier.
        bytes[] memory proofs = new bytes[](1);
        proofs[0] = s.proof;
        bytes32[][] memory batch = new bytes32[][](1);
        batch[0] = inputs;
        try SPLIT_VERIFIER.verifyBatch(proofs, batch) returns (bool ok) {
            if (!ok) revert InvalidProof();
        } catch {
            revert InvalidProof();
        }

        isSpent[s.nullifier] = true;
        if (outs != 0) {
            uint256[] memory cms = new uint256[](outs);
            uint256 k = 0;
            for (uint256 i = 0; i < SPLIT_OUTPUTS; ++i) {
                if (s.outCms[i] != 0) cms[k++] = s.outCms[i];
            }
            _insert(cms);
        }
        emit Spent(s.nullifier, digest);
        _pay(digest, payment, s.amount * UNIT);
    }

    // ------------------------------------------------------------------------------------ payments

    /// The EIP-712 digest of `payment` under this pool's domain: what each auth key signs, and the
    /// payment's identifier in the Spent and Paid events.
    function paymentDigest(Payment calldata payment) external view returns (bytes32) {
        return _paymentDigest(payment);
    }

    /// The EIP-712 domain separator: name "bucketpay", version "2", this chain, this pool.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _paymentDigest(Payment calldata payment) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                PAYMENT_TYPEHASH,
                keccak256(abi.encodePacked(payment.nullifiers)),
                payment.recipient,
                payment.fee,
                payment.feeRecipient,
                payment.deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// The payment's own checks (deadline, recipients); returns its digest.
    function _checkPayment(Payment calldata payment) private view returns (bytes32) {
        if (block.timestamp > payment.deadline) revert PaymentExpired(payment.deadline);
        if (payment.recipient == address(0)) revert ZeroRecipient();
        if (payment.fee != 0 && payment.feeRecipient == address(0)) revert ZeroFeeRecipient();
        return _paymentDigest(payment);
    }

    /// Reverts with WrongSigner(index) unless `signature` (r || s || v, 65 bytes) is auth's
    /// signature of `digest`. Malleable (high-s) and malformed signatures are refused by
    /// OpenZeppelin's ECDSA.tryRecover, whose failures recover no address.
    function _checkSigner(bytes32 digest, address auth, bytes calldata signature, uint256 index) private pure {
        if (auth == address(0)) revert ZeroAuth(index);
        if (signature.length != 65) revert WrongSigner(index);
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(digest, uint8(signature[64]), bytes32(signature[0:32]), bytes32(signature[32:64]));
        if (err != ECDSA.RecoverError.NoError || signer != auth) revert WrongSigner(index);
    }

    /// Pays `total` (token base units) as `payment` says and emits Paid; the caller checked
    /// fee <= total. Transfers of 0 are skipped.
    function _pay(bytes32 digest, Payment calldata payment, uint256 total) private {
        uint256 amount = total - payment.fee;
        emit Paid(digest, payment.recipient, amount, payment.feeRecipient, payment.fee);
        if (amount != 0) TOKEN.safeTransfer(payment.recipient, amount);
        if (payment.fee != 0) TOKEN.safeTransfer(payment.feeRecipient, payment.fee);
    }

    // -------------------------------------------------------------------------------------- checks

    function _commitment(uint256 owner, uint256 value) private view returns (uint256) {
        if (owner >= FIELD_SIZE) revert NotAFieldElement(owner);
        if (value > MAX_VALUE) revert ValueTooLarge(value);
        if (value == 0) revert ZeroValue();
        return Poseidon2.hash2(HASHER, owner, value);
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
