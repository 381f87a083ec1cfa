// Spending limits: their text form and the check pay() runs against the journal.
#include <charconv>

#include "bucketpay/wallet.h"
#include "wallet_util.h"

namespace bucketpay {

Result<SpendLimits> SpendLimits::parse(std::string_view text) {
  SpendLimits out;
  if (text == "none" || text.empty()) return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    std::uint64_t value = 0;
    const std::string_view digits = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        value > kMaxPaymentCents * 1000) {
      return Status::invalid_argument(
          "spending limit \"" + std::string(item) +
          "\": expected KEY=NUMBER (payment=, payee=, period= in cents; period_s= seconds)");
    }
    if (key == "payment") {
      out.per_payment = value;
    } else if (key == "payee") {
      out.per_payee = value;
    } else if (key == "period") {
      out.per_period = value;
    } else if (key == "period_s") {
      if (value == 0) return Status::invalid_argument("spending limit period_s must be positive");
      out.period_s = value;
    } else {
      return Status::invalid_argument("spending limit \"" + std::string(item) +
                                      "\": unknown key (payment, payee, period, period_s)");
    }
    start = comma + 1;
  }
  return out;
}

std::string SpendLimits::to_string() const {
  if (!any()) return "none";
  return "payment=" + std::to_string(per_payment) + ",payee=" + std::to_string(per_payee) +
         ",period=" + std::to_string(per_period) + ",period_s=" + std::to_string(period_s);
}

Status check_spend_limits(const SpendLimits& limits, const std::vector<Payment>& payments, Cents amount,
                          const eth::Address& to, std::int64_t now_ms) {
  if (limits.per_payment != 0 && amount > limits.per_payment) {
    return Status::resource_exhausted("spending limit: " + wallet_util::dollars(amount) + " is above the " +
                                      wallet_util::dollars(limits.per_payment) + " a payment may carry");
  }
  const std::int64_t since = now_ms - static_cast<std::int64_t>(limits.period_s) * 1000;
  const std::string payee = to.to_hex();
  Cents to_payee = 0;
  Cents to_all = 0;
  for (const Payment& p : payments) {
    if ((p.kind != PaymentKind::kPay && p.kind != PaymentKind::kSplit) || p.state == PaymentState::kFailed ||
        p.created_ms < since)
      continue;
    to_all += p.amount;
    if (p.recipient == payee) to_payee += p.amount;
  }
  const std::string period = " in " + std::to_string(limits.period_s) + " s";
  if (limits.per_payee != 0 && to_payee + amount > limits.per_payee) {
    const Cents left = limits.per_payee > to_payee ? limits.per_payee - to_payee : 0;
    return Status::resource_exhausted("spending limit: " + wallet_util::dollars(to_payee) + " paid to " +
                                      to.to_checksum() + period + "; " + wallet_util::dollars(left) + " left of its " +
                                      wallet_util::dollars(limits.per_payee));
  }
  if (limits.per_period != 0 && to_all + amount > limits.per_period) {
    const Cents left = limits.per_period > to_all ? limits.per_period - to_all : 0;
    return Status::resource_exhausted("spending limit: " + wallet_util::dollars(to_all) + " paid" + period + "; " +
                                      wallet_util::dollars(left) + " left of " +
                                      wallet_util::dollars(limits.per_period));
  }
  return Status::ok();
}

}  // namespace bucketpay
