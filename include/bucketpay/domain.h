// The typed domain: the kinds of things bucketpay names, as enums, with their one text codec.
//
// Text forms ("spend", "split", "pay", ...) exist only at the edges: the store's columns, the
// circuits' artifact names, JSON and the command line. Everything else passes the enums; a name
// read back from outside that is none of these is an error, never a default.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "bucketpay/status.h"

namespace bucketpay {

// The two circuits (docs/protocol.md, "Circuits").
enum class CircuitKind : std::uint8_t {
  kSpend,  // one note, spent whole: public [root, nullifier, value, auth]
  kSplit,  // one note into an amount and up to 8 outputs: public [root, nullifier, amount, auth, out_cm[8]]
};
inline constexpr std::array<CircuitKind, 2> kCircuitKinds = {CircuitKind::kSpend, CircuitKind::kSplit};
// "spend", "split": the compiled artifact's name (<circuits>/<name>.json) and the stored form.
std::string_view circuit_name(CircuitKind kind);
// kInvalidArgument naming the text when it is no circuit's name.
Result<CircuitKind> parse_circuit_kind(std::string_view name);

// What a journaled payment does (bucketpay/store.h, PaymentJournal).
enum class PaymentKind : std::uint8_t {
  kPay,        // notes spent with their precomputed spend proofs (spendBatch through a relayer)
  kSplit,      // an on-demand split paying the recipient, the change back to the wallet
  kRebalance,  // a split of one note into denominations, withdrawing only the relayer's fee
  kDeposit,    // a depositMany sent by the wallet's own account
};
inline constexpr std::array<PaymentKind, 4> kPaymentKinds = {PaymentKind::kPay, PaymentKind::kSplit,
                                                             PaymentKind::kRebalance, PaymentKind::kDeposit};
// "pay", "split", "rebalance", "deposit".
std::string_view payment_kind_name(PaymentKind kind);
// kInvalidArgument naming the text when it is no kind's name.
Result<PaymentKind> parse_payment_kind(std::string_view name);
// The circuit whose proofs a payment of `kind` hands over (pay: spend; split, rebalance: split);
// kInvalidArgument for a deposit, which carries none.
Result<CircuitKind> circuit_of(PaymentKind kind);

}  // namespace bucketpay
