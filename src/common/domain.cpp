#include "bucketpay/domain.h"

#include <string>

namespace bucketpay {

std::string_view circuit_name(CircuitKind kind) {
  switch (kind) {
    case CircuitKind::kSpend:
      return "spend";
    case CircuitKind::kSplit:
      return "split";
  }
  return "?";
}

Result<CircuitKind> parse_circuit_kind(std::string_view name) {
  for (CircuitKind k : kCircuitKinds) {
    if (circuit_name(k) == name) return k;
  }
  return Status::invalid_argument("\"" + std::string(name) + "\" is not a circuit (spend, split)");
}

std::string_view payment_kind_name(PaymentKind kind) {
  switch (kind) {
    case PaymentKind::kPay:
      return "pay";
    case PaymentKind::kSplit:
      return "split";
    case PaymentKind::kRebalance:
      return "rebalance";
    case PaymentKind::kDeposit:
      return "deposit";
  }
  return "?";
}

Result<PaymentKind> parse_payment_kind(std::string_view name) {
  for (PaymentKind k : kPaymentKinds) {
    if (payment_kind_name(k) == name) return k;
  }
  return Status::invalid_argument("\"" + std::string(name) +
                                  "\" is not a payment kind (pay, split, rebalance, deposit)");
}

Result<CircuitKind> circuit_of(PaymentKind kind) {
  switch (kind) {
    case PaymentKind::kPay:
      return CircuitKind::kSpend;
    case PaymentKind::kSplit:
    case PaymentKind::kRebalance:
      return CircuitKind::kSplit;
    case PaymentKind::kDeposit:
      break;
  }
  return Status::invalid_argument("a deposit hands over no proof");
}

}  // namespace bucketpay
