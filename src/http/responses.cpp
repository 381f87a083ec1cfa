#include "bucketpay/http_responses.h"

namespace bucketpay::http {

std::string status_message(int status, std::size_t max_body_bytes) {
  switch (status) {
    case 400:
      return "bad request: the HTTP request could not be parsed";
    case 401:
      return "authentication required: send Authorization: Bearer <token>";
    case 404:
      return "no such endpoint";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large (the limit is " + std::to_string(max_body_bytes) + " bytes)";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported content type: send application/json";
    default:
      return "HTTP " + std::to_string(status);
  }
}

std::string exception_message(const std::exception_ptr& ep) {
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

}  // namespace bucketpay::http
