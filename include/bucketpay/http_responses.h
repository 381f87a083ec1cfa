// What a bucketpay HTTP server answers when no handler of its own did: the error message for a
// status cpp-httplib set by itself (unknown path, a body over the limit, an unparsable request),
// and the message of an exception a handler let through (a bug: answered 500, never a crash).
//
// Pure functions; safe from any thread; they never throw.
#pragma once

#include <cstddef>
#include <exception>
#include <string>

namespace bucketpay::http {

// One line for `status` ("no such endpoint", "request body too large (the limit is N bytes)", ...;
// "HTTP <status>" for one without its own), `max_body_bytes` being the server's body limit.
std::string status_message(int status, std::size_t max_body_bytes);

// what() of the exception in `ep`, or "unknown exception" (not a std::exception, or none).
std::string exception_message(const std::exception_ptr& ep);

}  // namespace bucketpay::http
