// Parsers of the request headers an HTTP server of bucketpay reads itself (cpp-httplib splits the
// request into headers; what a header's value means is ours): Authorization's bearer token,
// Content-Type, Host. Each takes the header's raw value as the client sent it.
//
// Pure functions; safe from any thread; they never throw. Fuzzed by http_header_fuzzer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bucketpay::http {

// The token of `Authorization: Bearer <token>` (RFC 6750: the scheme in any case, one space, a
// b64token: letters, digits, "-._~+/", then any "="), or nullopt when the value is not that
// (another scheme, no token, more spaces, spaces or control characters inside it).
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Whether a Content-Type names JSON: application/json in any case, optionally followed by
// parameters (";charset=utf-8"). An empty value (no header) is not JSON; callers decide.
bool is_json_content_type(std::string_view content_type);

// The host name of a Host header ("name", "name:port", "[v6]", "[v6]:port"), lower-cased, without
// brackets or port; nullopt when it is not one (empty, bad port, spaces, characters no host name
// or address has).
std::optional<std::string> host_name(std::string_view host_header);

// Whether a request's Host header is one this server answers (the defence against DNS
// rebinding: a page of evil.example that re-points its name to 127.0.0.1 sends Host: evil.example).
// Accepted: an IP address literal (a rebinding attack needs a name the attacker controls), or a
// name in `allowed_names` (compared without case; "localhost" is always allowed). A missing or
// malformed Host is refused.
bool host_allowed(std::string_view host_header, const std::vector<std::string>& allowed_names);

}  // namespace bucketpay::http
