#include "bucketpay/amount.h"

namespace bucketpay {
namespace {

Status reject(std::string_view text, std::string_view why) {
  return Status::invalid_argument("invalid amount \"" + std::string(text) + "\": " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Cents> parse_amount(std::string_view text, AmountUnit unit, Cents max_cents) {
  if (text.empty()) return reject(text, "empty");
  if (text.size() > 64) return reject(text.substr(0, 64), "too long");
  for (char c : text) {
    if (c == '-') return reject(text, "negative amounts are not allowed");
    if (c == '+') return reject(text, "signs are not allowed");
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return reject(text, "spaces are not allowed");
    if (c == 'e' || c == 'E') return reject(text, "exponents are not allowed");
    if (c == ',') return reject(text, "thousands separators are not allowed");
    if (!is_digit(c) && c != '.') return reject(text, "only digits and one '.' are allowed");
  }
  std::string_view whole = text;
  std::string_view frac;
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    if (unit == AmountUnit::kCents) return reject(text, "cents must be a whole number");
    whole = text.substr(0, dot);
    frac = text.substr(dot + 1);
    if (frac.find('.') != std::string_view::npos) return reject(text, "more than one '.'");
    if (whole.empty() || frac.empty()) return reject(text, "digits are needed on both sides of '.'");
    if (frac.size() > 2) return reject(text, "at most two decimals (cents)");
  }
  if (whole.size() > 1 && whole[0] == '0') return reject(text, "leading zeros are not allowed");

  // Accumulate in cents, checking against max_cents at every step so nothing overflows.
  const Cents scale = unit == AmountUnit::kDollars ? 100 : 1;
  const Cents limit = max_cents / scale;  // the largest whole part
  Cents value = 0;
  for (char c : whole) {
    const auto digit = static_cast<Cents>(c - '0');
    if (digit > limit || value > (limit - digit) / 10) {
      return reject(
          text, "too large (the maximum is " +
                    (unit == AmountUnit::kDollars ? format_dollars(max_cents) : std::to_string(max_cents) + " cents") +
                    ")");
    }
    value = value * 10 + digit;
  }
  value *= scale;
  if (!frac.empty()) {
    Cents cents = static_cast<Cents>(frac[0] - '0') * 10;
    if (frac.size() == 2) cents += static_cast<Cents>(frac[1] - '0');
    if (value > max_cents - cents) {
      return reject(text, "too large (the maximum is " + format_dollars(max_cents) + ")");
    }
    value += cents;
  }
  if (value == 0) return reject(text, "zero is not an amount");
  return value;
}

std::string format_dollars(Cents cents) {
  std::string frac = std::to_string(cents % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(cents / 100) + "." + frac;
}

}  // namespace bucketpay
