// Status and Result<T>: how bucketpay reports expected failures.
//
// Expected failures (bad input, I/O, database, prover or chain errors) are values, never exceptions.
// A function that can fail returns Status (no value) or Result<T> (a value or the Status saying why
// not). Both are [[nodiscard]]. Exceptions are caught and converted to Status only at thread, process
// and HTTP boundaries.
//
// Thread safety: these are plain values; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bucketpay {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // the thing to create exists (e.g. a spent nullifier)
  kFailedPrecondition,  // the system is not in a state where this can run (e.g. missing CRS)
  kIoError,             // file system, pipe or socket failure
  kCorruption,          // stored or received data is inconsistent
  kUnavailable,         // a peer (bb, node, database, chain) is not reachable or died
  kTimeout,             // a deadline passed
  kCancelled,           // the caller cancelled
  kResourceExhausted,   // memory, disk or a quota
  kInternal,            // a bug: an invariant did not hold
};

// The name of a code, e.g. "invalid argument".
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  // The default Status is OK.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  [[nodiscard]] bool is_ok() const { return code_ == StatusCode::kOk; }
  [[nodiscard]] StatusCode code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }
  // "OK", or "<code name>: <message>".
  [[nodiscard]] std::string to_string() const;

  // Prefixes the message with context, e.g. s.with_context("proving note 7").
  [[nodiscard]] Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value of T, or the non-OK Status that says why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): a T converts to a successful Result.
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor): a failed Status converts to a failed Result.
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {
    assert(!std::get<1>(data_).is_ok() && "a Result needs a value or a failed Status");
  }

  [[nodiscard]] bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires ok(): on a failed Result it is a checked failure (a bug in the caller), which prints
  // the Status and aborts the process, in every build type.
  T& value() & {
    check_ok();
    return std::get<0>(data_);
  }
  const T& value() const& {
    check_ok();
    return std::get<0>(data_);
  }
  T&& value() && {
    check_ok();
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK when ok(), else the failure.
  [[nodiscard]] Status status() const { return ok() ? Status::ok() : std::get<1>(data_); }

 private:
  void check_ok() const {
    if (ok()) return;
    std::fprintf(stderr, "bucketpay: Result::value() on a failed Result: %s\n", std::get<1>(data_).to_string().c_str());
    std::abort();
  }

  std::variant<T, Status> data_;
};

}  // namespace bucketpay

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define BUCKETPAY_RETURN_IF_ERROR(expr)                       \
  do {                                                        \
    ::bucketpay::Status bucketpay_status_ = (expr);           \
    if (!bucketpay_status_.is_ok()) return bucketpay_status_; \
  } while (false)

// Evaluates `expr` (a Result<T>); on failure returns its Status from the enclosing function (which
// returns a Status or a Result), else assigns the value to `lhs`, a declaration or an lvalue:
//   BUCKETPAY_ASSIGN_OR_RETURN(auto notes, store.list_notes(wallet, std::nullopt));
//   BUCKETPAY_ASSIGN_OR_RETURN(report.to_block, advance(cursor));
// A lhs with a comma (std::pair<A, B> x) needs a type alias. Expands to several statements: not
// for an unbraced if/else branch.
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration, it cannot be parenthesised.
#define BUCKETPAY_ASSIGN_OR_RETURN(lhs, expr) \
  BUCKETPAY_STATUS_ASSIGN_OR_RETURN_(lhs, BUCKETPAY_STATUS_CONCAT_(bucketpay_result_, __LINE__), expr)
#define BUCKETPAY_STATUS_ASSIGN_OR_RETURN_(lhs, tmp, expr) \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) return tmp.status();                      \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
#define BUCKETPAY_STATUS_CONCAT_INNER_(a, b) a##b
#define BUCKETPAY_STATUS_CONCAT_(a, b) BUCKETPAY_STATUS_CONCAT_INNER_(a, b)
