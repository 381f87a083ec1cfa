// The Solidity contract ABI: a small typed encoder and a strict decoder for calls, return data,
// event logs and revert data (https://docs.soliditylang.org/en/latest/abi-spec.html).
//
// Types are written as in Solidity signatures: uint<M> (8 <= M <= 256, M % 8 == 0; "uint" is
// uint256), bool, address, bytes<M> (1 <= M <= 32), bytes, string, T[] (dynamic arrays), T[k]
// (fixed arrays) and tuples "(T1,T2,...)", nested freely. Signed intN is not supported (the pool
// uses none); it is an invalid-argument error.
//
// A Value is untyped data (an integer, a bool, an address, bytes, a string, or a list for arrays
// and tuples); the Type given at encoding decides its layout and is checked against it (a bytes32
// value must have exactly 32 bytes, a uint8 must fit in 8 bits, an array's length must match T[k]).
//
// Decoding is strict and never reads out of bounds: offsets and lengths must lie inside the data,
// integers must fit their width, addresses and bools must be canonical; otherwise a kCorruption
// Status says where. Extra trailing data is allowed (as solc's decoder allows it).
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bucketpay/eth.h"
#include "bucketpay/status.h"

namespace bucketpay::abi {

using eth::Address;
using eth::Bytes;
using eth::Hash32;
using eth::U256;

// A parsed ABI type.
struct Type {
  enum class Kind : std::uint8_t { kUint, kBool, kAddress, kFixedBytes, kBytes, kString, kArray, kTuple };
  Kind kind = Kind::kUint;
  // kUint: bits; kFixedBytes: byte count; kArray: fixed length, or -1 for T[].
  int size = 256;
  // kArray: one element type; kTuple: the component types.
  std::vector<Type> elements;

  // The canonical spelling, e.g. "uint256", "(bytes,uint256)[]".
  [[nodiscard]] std::string to_string() const;
  // Dynamic types are encoded out of line (bytes, string, T[], and arrays/tuples holding them).
  [[nodiscard]] bool is_dynamic() const;
};

// Parses one type ("uint256[]", "(bytes,address)[]").
Result<Type> parse_type(std::string_view s);
// Parses a parenthesised, comma-separated list, e.g. "(uint256,address)"; "()" is empty.
Result<std::vector<Type>> parse_type_list(std::string_view s);

// Untyped ABI data.
class Value {
 public:
  using List = std::vector<Value>;

  static Value integer(const U256& v) { return Value(v); }
  static Value boolean(bool b) { return Value(b); }
  static Value address(const Address& a) { return Value(a); }
  // For both bytes<M> and bytes.
  static Value bytes(Bytes b) { return Value(std::move(b)); }
  static Value bytes32(const Hash32& h) { return Value(Bytes(h.begin(), h.end())); }
  static Value string(std::string s) { return Value(std::move(s)); }
  // For arrays and tuples.
  static Value list(List items) { return Value(std::move(items)); }

  // nullptr when the value is of another kind.
  [[nodiscard]] const U256* as_uint() const { return std::get_if<U256>(&data_); }
  [[nodiscard]] const bool* as_bool() const { return std::get_if<bool>(&data_); }
  [[nodiscard]] const Address* as_address() const { return std::get_if<Address>(&data_); }
  [[nodiscard]] const Bytes* as_bytes() const { return std::get_if<Bytes>(&data_); }
  [[nodiscard]] const std::string* as_string() const { return std::get_if<std::string>(&data_); }
  [[nodiscard]] const List* as_list() const { return std::get_if<List>(&data_); }

  // For messages: decimal integers, checksummed addresses, 0x-hex bytes, quoted strings, [a, b].
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  using Data = std::variant<U256, bool, Address, Bytes, std::string, List>;
  explicit Value(Data d) : data_(std::move(d)) {}
  Data data_;
};

// A function, event or error signature: a name and its parameter types.
struct Signature {
  std::string name;
  std::vector<Type> params;
  std::vector<bool> indexed;  // events only: which parameters are topics

  // "name(type1,type2)", the form whose Keccak-256 gives selectors and event topics.
  [[nodiscard]] std::string canonical() const;
  // keccak256(canonical())[0:4].
  [[nodiscard]] std::array<std::uint8_t, 4> selector() const;
  // keccak256(canonical()), an event's topic 0.
  [[nodiscard]] Hash32 topic() const;
};

// Parses "transfer(address,uint256)". Parameter names and, for events, the keyword "indexed" may
// follow each type: "Spent(uint256 indexed nullifier, address indexed recipient, uint256 value)".
Result<Signature> parse_signature(std::string_view s);

// keccak256(signature)[0:4] of a signature taken verbatim (so it must already be canonical).
std::array<std::uint8_t, 4> selector(std::string_view canonical_signature);

// Head/tail encoding of values as the tuple of `types`.
Result<Bytes> encode(std::span<const Type> types, std::span<const Value> values);
// Selector + encoded arguments, e.g. encode_call("transfer(address,uint256)", {...}).
Result<Bytes> encode_call(std::string_view signature, std::span<const Value> args);
// Encoded constructor arguments appended to init code (a deployment's data).
Result<Bytes> encode_deploy(std::span<const std::uint8_t> init_code, std::string_view constructor_types,
                            std::span<const Value> args);

// Decodes `data` as the tuple of `types` (return data, event data, error arguments).
Result<std::vector<Value>> decode(std::span<const Type> types, std::span<const std::uint8_t> data);
// Same, with the types written as a list: decode("(uint256,address)", data).
Result<std::vector<Value>> decode(std::string_view type_list, std::span<const std::uint8_t> data);

// Decodes an event log into its parameters, in declaration order. topics[0] must be the event's
// topic; indexed parameters come from the following topics (an indexed dynamic value is only its
// Keccak-256 hash: it is returned as 32 bytes), the others from data.
Result<std::vector<Value>> decode_log(const Signature& event, std::span<const Hash32> topics,
                                      std::span<const std::uint8_t> data);

// Why a call reverted, from its revert data.
struct RevertReason {
  enum class Kind : std::uint8_t {
    kEmpty,    // no data (revert(), require without message, out of gas, invalid opcode...)
    kError,    // Error(string): require/revert with a message
    kPanic,    // Panic(uint256): assert, overflow, division by zero, ...
    kCustom,   // one of the custom errors the caller listed
    kUnknown,  // a selector nobody listed, or malformed data
  };
  Kind kind = Kind::kEmpty;
  std::string name;         // "Error", "Panic", the custom error's name; empty otherwise
  std::vector<Value> args;  // the decoded arguments
  Bytes raw;                // the revert data as received
  // One line for people, e.g. "Error(\"not enough\")", "Panic(0x11: arithmetic overflow)",
  // "UnknownRoot(123)", "unknown error 0x12345678 (36 bytes)", "no revert data".
  std::string message;
};

// Never fails: data it cannot decode is kUnknown. `error_signatures` are custom errors such as
// "UnknownRoot(uint256)" (unparseable entries are ignored).
RevertReason decode_revert(std::span<const std::uint8_t> data, std::span<const std::string> error_signatures = {});

// The signatures of one kind ("function", "event" or "error") listed in a contract's JSON ABI
// (e.g. forge's out/<File>.sol/<Contract>.json "abi" array), canonical, events with " indexed"
// markers, tuples expanded. Fails on malformed JSON.
Result<std::vector<std::string>> signatures_from_abi_json(std::string_view abi_json, std::string_view kind);

}  // namespace bucketpay::abi
