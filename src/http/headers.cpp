#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "bucketpay/http_headers.h"

namespace bucketpay::http {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool is_b64token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
         c == '/';
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  rest.remove_prefix(1);
  std::size_t i = 0;
  while (i < rest.size() && is_b64token_char(rest[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < rest.size() && rest[i] == '=') ++i;
  if (i != rest.size()) return std::nullopt;
  return rest;
}

bool is_json_content_type(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  if (content_type.size() < kJson.size() || !iequals(content_type.substr(0, kJson.size()), kJson)) return false;
  const std::string_view rest = content_type.substr(kJson.size());
  const std::size_t next = rest.find_first_not_of(' ');
  return next == std::string_view::npos || rest[next] == ';';
}

std::optional<std::string> host_name(std::string_view host_header) {
  std::string_view name = host_header;
  std::string_view port;
  if (!name.empty() && name.front() == '[') {
    const std::size_t close = name.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = name.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
    const std::string inside(name.substr(1, close - 1));
    if (!is_ipv6(inside)) return std::nullopt;
    std::string out = inside;
    std::transform(out.begin(), out.end(), out.begin(), lower);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) || port.size() > 5) {
      return std::nullopt;
    }
    return out;
  }
  const std::size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    port = name.substr(colon + 1);
    name = name.substr(0, colon);
    if (port.empty()) return std::nullopt;
  }
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (name.empty() || name.size() > 253) return std::nullopt;
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.' && c != '_') return std::nullopt;
    out.push_back(lower(c));
  }
  return out;
}

bool host_allowed(std::string_view host_header, const std::vector<std::string>& allowed_names) {
  const std::optional<std::string> name = host_name(host_header);
  if (!name) return false;
  if (is_ipv4(*name) || is_ipv6(*name)) return true;
  // A trailing dot names the same host ("localhost." is "localhost").
  std::string_view bare = *name;
  if (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
  if (bare == "localhost") return true;
  return std::any_of(allowed_names.begin(), allowed_names.end(), [&](const std::string& allowed) {
    std::string_view a = allowed;
    if (!a.empty() && a.back() == '.') a.remove_suffix(1);
    return iequals(a, bare);
  });
}

}  // namespace bucketpay::http
