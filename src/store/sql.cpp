#include "sql.h"

#include <charconv>
#include <string>

namespace bucketpay::sql {
namespace {

const Cell empty_cell;

template <typename T>
T parse_number(std::string_view s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

const Cell& Row::cell(int col) const { return col >= 0 && col < columns_ ? cells_[col] : empty_cell; }

bool Row::is_null(int col) const { return std::holds_alternative<std::monostate>(cell(col)); }

std::int64_t Row::int64(int col) const {
  const Cell& c = cell(col);
  if (const auto* v = std::get_if<std::int64_t>(&c)) return *v;
  if (const auto* v = std::get_if<double>(&c)) return static_cast<std::int64_t>(*v);
  if (const auto* v = std::get_if<std::string>(&c)) return parse_number<std::int64_t>(*v);
  if (const auto* v = std::get_if<Bytes>(&c)) {
    return parse_number<std::int64_t>(std::string_view(reinterpret_cast<const char*>(v->data()), v->size()));
  }
  return 0;
}

double Row::real(int col) const {
  const Cell& c = cell(col);
  if (const auto* v = std::get_if<double>(&c)) return *v;
  if (const auto* v = std::get_if<std::int64_t>(&c)) return static_cast<double>(*v);
  if (const auto* v = std::get_if<std::string>(&c)) return parse_number<double>(*v);
  return 0;
}

std::string Row::text(int col) const {
  const Cell& c = cell(col);
  if (const auto* v = std::get_if<std::string>(&c)) return *v;
  if (const auto* v = std::get_if<Bytes>(&c)) return {v->begin(), v->end()};
  if (const auto* v = std::get_if<std::int64_t>(&c)) return std::to_string(*v);
  if (const auto* v = std::get_if<double>(&c)) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    return {buf, end};
  }
  return {};
}

Bytes Row::blob(int col) const {
  const Cell& c = cell(col);
  if (const auto* v = std::get_if<Bytes>(&c)) return *v;
  if (std::holds_alternative<std::monostate>(c)) return {};
  const std::string s = text(col);
  return {s.begin(), s.end()};
}

Result<Transaction> Transaction::begin(Connection& c, Access access) {
  BUCKETPAY_RETURN_IF_ERROR(c.begin(access));
  return Transaction(&c);
}

ConnectionLease::~ConnectionLease() {
  if (db_ != nullptr) db_->release(c_);
}

}  // namespace bucketpay::sql
