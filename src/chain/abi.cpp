#include "bucketpay/abi.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>

namespace bucketpay::abi {

namespace {

constexpr int kMaxFixedArray = 1 << 16;  // bounds T[k] so sizes never overflow

// --------------------------------------------------------------------------------- type parsing

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    if (peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }
  std::string_view word() {
    std::size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '_' || s_[pos_] == '$')) {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }
  Status error(std::string_view what) const {
    return Status::invalid_argument(std::string(what) + " at position " + std::to_string(pos_) + " in '" +
                                    std::string(s_) + "'");
  }

  Result<std::vector<Type>> type_list() {
    if (!eat('(')) {
      return error("expected '('");
    }
    std::vector<Type> out;
    skip_ws();
    if (eat(')')) {
      return out;
    }
    for (;;) {
      skip_ws();
      Result<Type> t = type();
      if (!t) {
        return t.status();
      }
      out.push_back(std::move(t).value());
      skip_ws();
      if (eat(')')) {
        return out;
      }
      if (!eat(',')) {
        return error("expected ',' or ')'");
      }
    }
  }

  Result<Type> type() {
    Type t;
    if (peek() == '(') {
      Result<std::vector<Type>> elems = type_list();
      if (!elems) {
        return elems.status();
      }
      if (elems->empty()) {
        return error("empty tuple type");
      }
      t.kind = Type::Kind::kTuple;
      t.elements = std::move(elems).value();
    } else {
      std::string_view w = word();
      Result<Type> base = elementary(w);
      if (!base) {
        return base.status();
      }
      t = std::move(base).value();
    }
    while (eat('[')) {
      Type arr;
      arr.kind = Type::Kind::kArray;
      arr.size = -1;
      if (!eat(']')) {
        std::string_view digits = word();
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
            (digits.size() > 1 && digits[0] == '0') || digits.size() > 6) {
          return error("bad array length");
        }
        arr.size = std::stoi(std::string(digits));
        if (arr.size == 0 || arr.size > kMaxFixedArray) {
          return error("array length out of range");
        }
        if (!eat(']')) {
          return error("expected ']'");
        }
      }
      arr.elements.push_back(std::move(t));
      t = std::move(arr);
    }
    return t;
  }

 private:
  Result<Type> elementary(std::string_view w) {
    Type t;
    auto suffix_number = [](std::string_view d) -> int {
      if (d.empty() || d.size() > 3 || d[0] == '0' || !std::all_of(d.begin(), d.end(), ::isdigit)) {
        return -1;
      }
      return std::stoi(std::string(d));
    };
    if (w == "bool") {
      t.kind = Type::Kind::kBool;
    } else if (w == "address") {
      t.kind = Type::Kind::kAddress;
    } else if (w == "string") {
      t.kind = Type::Kind::kString;
    } else if (w == "bytes") {
      t.kind = Type::Kind::kBytes;
    } else if (w == "uint") {
      t.kind = Type::Kind::kUint;
      t.size = 256;
    } else if (w.starts_with("uint")) {
      int m = suffix_number(w.substr(4));
      if (m < 8 || m > 256 || m % 8 != 0) {
        return error("bad uint width '" + std::string(w) + "'");
      }
      t.kind = Type::Kind::kUint;
      t.size = m;
    } else if (w.starts_with("bytes")) {
      int m = suffix_number(w.substr(5));
      if (m < 1 || m > 32) {
        return error("bad bytes width '" + std::string(w) + "'");
      }
      t.kind = Type::Kind::kFixedBytes;
      t.size = m;
    } else if (w.starts_with("int")) {
      return error("signed integers are not supported ('" + std::string(w) + "')");
    } else if (w.empty()) {
      return error("expected a type");
    } else {
      return error("unknown type '" + std::string(w) + "'");
    }
    return t;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Bytes a static type occupies in place (dynamic types: their 32-byte offset).
std::size_t head_size(const Type& t) {
  if (t.is_dynamic()) {
    return 32;
  }
  switch (t.kind) {
    case Type::Kind::kArray:
      return static_cast<std::size_t>(t.size) * head_size(t.elements[0]);
    case Type::Kind::kTuple: {
      std::size_t n = 0;
      for (const Type& e : t.elements) {
        n += head_size(e);
      }
      return n;
    }
    default:
      return 32;
  }
}

// ------------------------------------------------------------------------------------- encoding

void append(Bytes& out, std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }

void append_padded(Bytes& out, std::span<const std::uint8_t> b) {
  append(out, b);
  out.resize(out.size() + (32 - b.size() % 32) % 32, 0);
}

Result<Bytes> encode_value(const Type& t, const Value& v);

// The tuple encoding of n values where value i has type type_at(i).
Result<Bytes> encode_sequence(std::size_t n, const std::function<const Type&(std::size_t)>& type_at,
                              std::span<const Value> values) {
  std::vector<Bytes> parts;
  parts.reserve(n);
  std::size_t heads = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Result<Bytes> e = encode_value(type_at(i), values[i]);
    if (!e) {
      return e.status().with_context("element " + std::to_string(i));
    }
    heads += head_size(type_at(i));
    parts.push_back(std::move(e).value());
  }
  Bytes head;
  Bytes tail;
  for (std::size_t i = 0; i < n; ++i) {
    if (type_at(i).is_dynamic()) {
      append(head, U256(static_cast<std::uint64_t>(heads + tail.size())).to_word());
      append(tail, parts[i]);
    } else {
      append(head, parts[i]);
    }
  }
  append(head, tail);
  return head;
}

Status kind_error(const Type& t, const Value& v) {
  return Status::invalid_argument("value " + v.to_string() + " does not fit type " + t.to_string());
}

Result<Bytes> encode_value(const Type& t, const Value& v) {
  Bytes out;
  switch (t.kind) {
    case Type::Kind::kUint: {
      const U256* u = v.as_uint();
      if (u == nullptr || u->bit_length() > static_cast<unsigned>(t.size)) {
        return kind_error(t, v);
      }
      append(out, u->to_word());
      return out;
    }
    case Type::Kind::kBool: {
      const bool* b = v.as_bool();
      if (b == nullptr) {
        return kind_error(t, v);
      }
      append(out, U256(*b ? 1 : 0).to_word());
      return out;
    }
    case Type::Kind::kAddress: {
      const Address* a = v.as_address();
      if (a == nullptr) {
        return kind_error(t, v);
      }
      append(out, a->to_word());
      return out;
    }
    case Type::Kind::kFixedBytes: {
      const Bytes* b = v.as_bytes();
      if (b == nullptr || b->size() != static_cast<std::size_t>(t.size)) {
        return kind_error(t, v);
      }
      append_padded(out, *b);
      return out;
    }
    case Type::Kind::kBytes:
    case Type::Kind::kString: {
      std::span<const std::uint8_t> data;
      if (t.kind == Type::Kind::kBytes && v.as_bytes() != nullptr) {
        data = *v.as_bytes();
      } else if (t.kind == Type::Kind::kString && v.as_string() != nullptr) {
        data = std::span(reinterpret_cast<const std::uint8_t*>(v.as_string()->data()), v.as_string()->size());
      } else {
        return kind_error(t, v);
      }
      append(out, U256(static_cast<std::uint64_t>(data.size())).to_word());
      append_padded(out, data);
      return out;
    }
    case Type::Kind::kArray: {
      const Value::List* l = v.as_list();
      if (l == nullptr || (t.size >= 0 && l->size() != static_cast<std::size_t>(t.size))) {
        return kind_error(t, v);
      }
      Result<Bytes> body = encode_sequence(
          l->size(), [&](std::size_t) -> const Type& { return t.elements[0]; }, *l);
      if (!body) {
        return body.status();
      }
      if (t.size < 0) {
        append(out, U256(static_cast<std::uint64_t>(l->size())).to_word());
      }
      append(out, *body);
      return out;
    }
    case Type::Kind::kTuple: {
      const Value::List* l = v.as_list();
      if (l == nullptr || l->size() != t.elements.size()) {
        return kind_error(t, v);
      }
      return encode_sequence(
          l->size(), [&](std::size_t i) -> const Type& { return t.elements[i]; }, *l);
    }
  }
  return Status::internal("unhandled ABI type");
}

// ------------------------------------------------------------------------------------- decoding

Status corrupt(const std::string& what) { return Status::corruption("ABI decoding: " + what); }

Result<std::size_t> read_size(std::span<const std::uint8_t> d, std::size_t at, std::size_t limit) {
  if (at + 32 > d.size()) {
    return corrupt("word at " + std::to_string(at) + " beyond the data's " + std::to_string(d.size()) + " bytes");
  }
  Hash32 w{};
  std::copy(d.begin() + static_cast<std::ptrdiff_t>(at), d.begin() + static_cast<std::ptrdiff_t>(at) + 32, w.begin());
  U256 v = U256::from_word(w);
  if (!v.fits_u64() || v.low_u64() > limit) {
    return corrupt("offset or length " + v.to_decimal() + " out of range");
  }
  return static_cast<std::size_t>(v.low_u64());
}

Result<Value> decode_value(const Type& t, std::span<const std::uint8_t> d);

Result<std::vector<Value>> decode_sequence(std::size_t n, const std::function<const Type&(std::size_t)>& type_at,
                                           std::span<const std::uint8_t> d) {
  std::vector<Value> out;
  out.reserve(n);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Type& t = type_at(i);
    Result<Value> v = Status::internal("unset");
    if (t.is_dynamic()) {
      Result<std::size_t> off = read_size(d, pos, d.size());
      if (!off) {
        return off.status();
      }
      v = decode_value(t, d.subspan(*off));
    } else {
      if (pos > d.size()) {
        return corrupt("data too short");
      }
      v = decode_value(t, d.subspan(pos));
    }
    if (!v) {
      return v.status().with_context("element " + std::to_string(i));
    }
    out.push_back(std::move(v).value());
    pos += head_size(t);
  }
  return out;
}

Result<Value> decode_value(const Type& t, std::span<const std::uint8_t> d) {
  auto word = [&]() -> Result<Hash32> {
    if (d.size() < 32) {
      return corrupt("need 32 bytes for " + t.to_string() + ", have " + std::to_string(d.size()));
    }
    Hash32 w{};
    std::copy(d.begin(), d.begin() + 32, w.begin());
    return w;
  };
  switch (t.kind) {
    case Type::Kind::kUint: {
      Result<Hash32> w = word();
      if (!w) {
        return w.status();
      }
      U256 v = U256::from_word(*w);
      if (v.bit_length() > static_cast<unsigned>(t.size)) {
        return corrupt(v.to_decimal() + " does not fit " + t.to_string());
      }
      return Value::integer(v);
    }
    case Type::Kind::kBool: {
      Result<Hash32> w = word();
      if (!w) {
        return w.status();
      }
      U256 v = U256::from_word(*w);
      if (v > U256(1)) {
        return corrupt("bool is neither 0 nor 1");
      }
      return Value::boolean(v == U256(1));
    }
    case Type::Kind::kAddress: {
      Result<Hash32> w = word();
      if (!w) {
        return w.status();
      }
      Result<Address> a = Address::from_word(*w);
      if (!a) {
        return corrupt(a.status().message());
      }
      return Value::address(*a);
    }
    case Type::Kind::kFixedBytes: {
      Result<Hash32> w = word();
      if (!w) {
        return w.status();
      }
      auto m = static_cast<std::size_t>(t.size);
      if (std::any_of(w->begin() + static_cast<std::ptrdiff_t>(m), w->end(), [](std::uint8_t b) { return b != 0; })) {
        return corrupt(t.to_string() + " has non-zero padding");
      }
      return Value::bytes(Bytes(w->begin(), w->begin() + static_cast<std::ptrdiff_t>(m)));
    }
    case Type::Kind::kBytes:
    case Type::Kind::kString: {
      Result<std::size_t> len = read_size(d, 0, d.size());
      if (!len) {
        return len.status();
      }
      if (32 + *len > d.size()) {
        return corrupt(t.to_string() + " of length " + std::to_string(*len) + " beyond the data");
      }
      Bytes b(d.begin() + 32, d.begin() + 32 + static_cast<std::ptrdiff_t>(*len));
      if (t.kind == Type::Kind::kBytes) {
        return Value::bytes(std::move(b));
      }
      return Value::string(std::string(b.begin(), b.end()));
    }
    case Type::Kind::kArray: {
      const Type& elem = t.elements[0];
      std::size_t n = 0;
      std::span<const std::uint8_t> body = d;
      if (t.size < 0) {
        Result<std::size_t> len = read_size(d, 0, d.size());
        if (!len) {
          return len.status();
        }
        n = *len;
        body = d.subspan(32);
      } else {
        n = static_cast<std::size_t>(t.size);
      }
      // Every element takes at least its head: this bounds n before anything is allocated.
      std::size_t hs = std::max<std::size_t>(head_size(elem), 1);
      if (n > body.size() / hs) {
        return corrupt("array of " + std::to_string(n) + " elements beyond the data");
      }
      Result<std::vector<Value>> items = decode_sequence(
          n, [&](std::size_t) -> const Type& { return elem; }, body);
      if (!items) {
        return items.status();
      }
      return Value::list(std::move(items).value());
    }
    case Type::Kind::kTuple: {
      Result<std::vector<Value>> items = decode_sequence(
          t.elements.size(), [&](std::size_t i) -> const Type& { return t.elements[i]; }, d);
      if (!items) {
        return items.status();
      }
      return Value::list(std::move(items).value());
    }
  }
  return Status::internal("unhandled ABI type");
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x";
      out.push_back("0123456789abcdef"[(c >> 4) & 0xf]);
      out.push_back("0123456789abcdef"[c & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string panic_name(const U256& code) {
  if (!code.fits_u64()) {
    return "unknown panic";
  }
  switch (code.low_u64()) {
    case 0x00:
      return "generic panic";
    case 0x01:
      return "assertion failed";
    case 0x11:
      return "arithmetic overflow or underflow";
    case 0x12:
      return "division or modulo by zero";
    case 0x21:
      return "invalid enum value";
    case 0x22:
      return "invalid storage byte array";
    case 0x31:
      return "pop on an empty array";
    case 0x32:
      return "array index out of bounds";
    case 0x41:
      return "out of memory";
    case 0x51:
      return "call to a zero internal function";
    default:
      return "unknown panic";
  }
}

std::string join_args(const std::vector<Value>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += args[i].to_string();
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------ Type, Value

std::string Type::to_string() const {
  switch (kind) {
    case Kind::kUint:
      return "uint" + std::to_string(size);
    case Kind::kBool:
      return "bool";
    case Kind::kAddress:
      return "address";
    case Kind::kFixedBytes:
      return "bytes" + std::to_string(size);
    case Kind::kBytes:
      return "bytes";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return elements[0].to_string() + (size < 0 ? "[]" : "[" + std::to_string(size) + "]");
    case Kind::kTuple: {
      std::string out = "(";
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) {
          out += ",";
        }
        out += elements[i].to_string();
      }
      return out + ")";
    }
  }
  return "?";
}

bool Type::is_dynamic() const {
  switch (kind) {
    case Kind::kBytes:
    case Kind::kString:
      return true;
    case Kind::kArray:
      return size < 0 || elements[0].is_dynamic();
    case Kind::kTuple:
      return std::any_of(elements.begin(), elements.end(), [](const Type& e) { return e.is_dynamic(); });
    default:
      return false;
  }
}

Result<Type> parse_type(std::string_view s) {
  Parser p(s);
  Result<Type> t = p.type();
  if (!t) {
    return t;
  }
  if (!p.at_end()) {
    return p.error("unexpected trailing characters");
  }
  return t;
}

Result<std::vector<Type>> parse_type_list(std::string_view s) {
  Parser p(s);
  p.skip_ws();
  Result<std::vector<Type>> l = p.type_list();
  if (!l) {
    return l;
  }
  p.skip_ws();
  if (!p.at_end()) {
    return p.error("unexpected trailing characters");
  }
  return l;
}

std::string Value::to_string() const {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, U256>) {
          return x.to_decimal();
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Address>) {
          return x.to_checksum();
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return eth::to_hex(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quote(x);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i > 0) {
              out += ", ";
            }
            out += x[i].to_string();
          }
          return out + "]";
        }
      },
      data_);
}

// ------------------------------------------------------------------------------------ signatures

std::string Signature::canonical() const {
  std::string out = name + "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) {
      out += ",";
    }
    out += params[i].to_string();
  }
  return out + ")";
}

std::array<std::uint8_t, 4> Signature::selector() const { return abi::selector(canonical()); }

Hash32 Signature::topic() const { return eth::keccak256(canonical()); }

Result<Signature> parse_signature(std::string_view s) {
  Parser p(s);
  p.skip_ws();
  Signature sig;
  sig.name = std::string(p.word());
  if (sig.name.empty() || std::isdigit(static_cast<unsigned char>(sig.name[0])) != 0) {
    return p.error("expected a name");
  }
  if (!p.eat('(')) {
    return p.error("expected '('");
  }
  p.skip_ws();
  if (!p.eat(')')) {
    for (;;) {
      p.skip_ws();
      Result<Type> t = p.type();
      if (!t) {
        return t.status();
      }
      sig.params.push_back(std::move(t).value());
      bool indexed = false;
      // Optional "indexed" and an optional parameter name.
      for (int words = 0; words < 2; ++words) {
        p.skip_ws();
        std::string_view w = p.word();
        if (w.empty()) {
          break;
        }
        if (w == "indexed" && !indexed && words == 0) {
          indexed = true;
        }
      }
      sig.indexed.push_back(indexed);
      p.skip_ws();
      if (p.eat(')')) {
        break;
      }
      if (!p.eat(',')) {
        return p.error("expected ',' or ')'");
      }
    }
  }
  p.skip_ws();
  if (!p.at_end()) {
    return p.error("unexpected trailing characters");
  }
  return sig;
}

std::array<std::uint8_t, 4> selector(std::string_view canonical_signature) {
  Hash32 h = eth::keccak256(canonical_signature);
  return {h[0], h[1], h[2], h[3]};
}

// ------------------------------------------------------------------------------ encode / decode

Result<Bytes> encode(std::span<const Type> types, std::span<const Value> values) {
  if (types.size() != values.size()) {
    return Status::invalid_argument("ABI encoding: " + std::to_string(values.size()) + " values for " +
                                    std::to_string(types.size()) + " types");
  }
  return encode_sequence(
      types.size(), [&](std::size_t i) -> const Type& { return types[i]; }, values);
}

Result<Bytes> encode_call(std::string_view signature, std::span<const Value> args) {
  Result<Signature> sig = parse_signature(signature);
  if (!sig) {
    return sig.status();
  }
  Result<Bytes> body = encode(sig->params, args);
  if (!body) {
    return body.status().with_context(sig->canonical());
  }
  auto sel = sig->selector();
  Bytes out(sel.begin(), sel.end());
  append(out, *body);
  return out;
}

Result<Bytes> encode_deploy(std::span<const std::uint8_t> init_code, std::string_view constructor_types,
                            std::span<const Value> args) {
  Result<std::vector<Type>> types = parse_type_list(constructor_types);
  if (!types) {
    return types.status();
  }
  Result<Bytes> body = encode(*types, args);
  if (!body) {
    return body.status().with_context("constructor");
  }
  Bytes out(init_code.begin(), init_code.end());
  append(out, *body);
  return out;
}

Result<std::vector<Value>> decode(std::span<const Type> types, std::span<const std::uint8_t> data) {
  return decode_sequence(
      types.size(), [&](std::size_t i) -> const Type& { return types[i]; }, data);
}

Result<std::vector<Value>> decode(std::string_view type_list, std::span<const std::uint8_t> data) {
  Result<std::vector<Type>> types = parse_type_list(type_list);
  if (!types) {
    return types.status();
  }
  return decode(*types, data);
}

Result<std::vector<Value>> decode_log(const Signature& event, std::span<const Hash32> topics,
                                      std::span<const std::uint8_t> data) {
  if (topics.empty() || topics[0] != event.topic()) {
    return corrupt("log is not a " + event.canonical() + " event (topic 0 differs)");
  }
  std::vector<Type> data_types;
  std::size_t n_indexed = 0;
  for (std::size_t i = 0; i < event.params.size(); ++i) {
    if (i < event.indexed.size() && event.indexed[i]) {
      ++n_indexed;
    } else {
      data_types.push_back(event.params[i]);
    }
  }
  if (topics.size() != n_indexed + 1) {
    return corrupt(event.canonical() + " has " + std::to_string(n_indexed) + " indexed parameters but the log " +
                   std::to_string(topics.size() - 1) + " topics");
  }
  Result<std::vector<Value>> unindexed = decode(data_types, data);
  if (!unindexed) {
    return unindexed.status().with_context(event.canonical());
  }
  std::vector<Value> out;
  std::size_t next_topic = 1;
  std::size_t next_data = 0;
  for (std::size_t i = 0; i < event.params.size(); ++i) {
    const Type& t = event.params[i];
    if (i < event.indexed.size() && event.indexed[i]) {
      const Hash32& topic = topics[next_topic++];
      if (t.is_dynamic() || t.kind == Type::Kind::kTuple || t.kind == Type::Kind::kArray) {
        out.push_back(Value::bytes32(topic));
      } else {
        Result<Value> v = decode_value(t, topic);
        if (!v) {
          return v.status().with_context(event.canonical());
        }
        out.push_back(std::move(v).value());
      }
    } else {
      out.push_back((*unindexed)[next_data++]);
    }
  }
  return out;
}

RevertReason decode_revert(std::span<const std::uint8_t> data, std::span<const std::string> error_signatures) {
  RevertReason r;
  r.raw.assign(data.begin(), data.end());
  if (data.empty()) {
    r.kind = RevertReason::Kind::kEmpty;
    r.message = "no revert data";
    return r;
  }
  auto unknown = [&](const std::string& note) {
    r.kind = RevertReason::Kind::kUnknown;
    r.name.clear();
    r.args.clear();
    std::string sel = data.size() >= 4 ? eth::to_hex(data.first(4)) : eth::to_hex(data);
    r.message = "unknown error " + sel + " (" + std::to_string(data.size()) + " bytes)" + note;
    return r;
  };
  if (data.size() < 4) {
    return unknown("");
  }
  std::array<std::uint8_t, 4> sel = {data[0], data[1], data[2], data[3]};
  std::span<const std::uint8_t> body = data.subspan(4);

  if (sel == selector("Error(string)")) {
    Result<std::vector<Value>> v = decode("(string)", body);
    if (!v) {
      return unknown(": malformed Error(string)");
    }
    r.kind = RevertReason::Kind::kError;
    r.name = "Error";
    r.args = std::move(v).value();
    r.message = "Error(" + r.args[0].to_string() + ")";
    return r;
  }
  if (sel == selector("Panic(uint256)")) {
    Result<std::vector<Value>> v = decode("(uint256)", body);
    if (!v) {
      return unknown(": malformed Panic(uint256)");
    }
    r.kind = RevertReason::Kind::kPanic;
    r.name = "Panic";
    r.args = std::move(v).value();
    r.message = "Panic(" + r.args[0].as_uint()->to_quantity() + ": " + panic_name(*r.args[0].as_uint()) + ")";
    return r;
  }
  for (const std::string& s : error_signatures) {
    Result<Signature> sig = parse_signature(s);
    if (!sig || sig->selector() != sel) {
      continue;
    }
    Result<std::vector<Value>> v = decode(sig->params, body);
    if (!v) {
      return unknown(": arguments do not decode as " + sig->canonical());
    }
    r.kind = RevertReason::Kind::kCustom;
    r.name = sig->name;
    r.args = std::move(v).value();
    r.message = r.name + "(" + join_args(r.args) + ")";
    return r;
  }
  return unknown("");
}

// ------------------------------------------------------------------------------------- JSON ABI

namespace {
Result<std::string> json_param_type(const nlohmann::json& p) {
  if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) {
    return Status::invalid_argument("ABI parameter without a string 'type'");
  }
  std::string type = p["type"].get<std::string>();
  if (!type.starts_with("tuple")) {
    return type;
  }
  if (!p.contains("components") || !p["components"].is_array()) {
    return Status::invalid_argument("tuple parameter without 'components'");
  }
  std::string inner = "(";
  bool first = true;
  for (const auto& c : p["components"]) {
    Result<std::string> ct = json_param_type(c);
    if (!ct) {
      return ct;
    }
    if (!first) {
      inner += ",";
    }
    inner += *ct;
    first = false;
  }
  return inner + ")" + type.substr(5);
}
}  // namespace

Result<std::vector<std::string>> signatures_from_abi_json(std::string_view abi_json, std::string_view kind) {
  nlohmann::json j = nlohmann::json::parse(abi_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::invalid_argument("ABI JSON does not parse");
  }
  if (j.is_object() && j.contains("abi")) {
    j = j["abi"];
  }
  if (!j.is_array()) {
    return Status::invalid_argument("ABI JSON is not an array");
  }
  std::vector<std::string> out;
  for (const auto& entry : j) {
    if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string() ||
        entry["type"].get<std::string>() != kind) {
      continue;
    }
    if (!entry.contains("name") || !entry["name"].is_string()) {
      return Status::invalid_argument("ABI entry without a name");
    }
    std::string sig = entry["name"].get<std::string>() + "(";
    if (entry.contains("inputs")) {
      if (!entry["inputs"].is_array()) {
        return Status::invalid_argument("ABI 'inputs' is not an array");
      }
      bool first = true;
      for (const auto& p : entry["inputs"]) {
        Result<std::string> t = json_param_type(p);
        if (!t) {
          return t.status();
        }
        if (!first) {
          sig += ",";
        }
        sig += *t;
        if (kind == "event" && p.contains("indexed") && p["indexed"].is_boolean() && p["indexed"].get<bool>()) {
          sig += " indexed";
        }
        first = false;
      }
    }
    out.push_back(sig + ")");
  }
  return out;
}

}  // namespace bucketpay::abi
