// The shared answers of bucketpay's HTTP servers (http/responses.h).
#include <gtest/gtest.h>

#include <stdexcept>

#include "bucketpay/http_responses.h"

namespace bucketpay::http {
namespace {

TEST(HttpResponses, StatusMessagesNameWhatIsWrong) {
  EXPECT_EQ(status_message(404, 0), "no such endpoint");
  EXPECT_EQ(status_message(413, 1048576), "request body too large (the limit is 1048576 bytes)");
  EXPECT_EQ(status_message(415, 0), "unsupported content type: send application/json");
  EXPECT_EQ(status_message(418, 0), "HTTP 418");
}

TEST(HttpResponses, AnExceptionsMessageOrUnknown) {
  EXPECT_EQ(exception_message(std::make_exception_ptr(std::runtime_error("boom"))), "boom");
  EXPECT_EQ(exception_message(std::make_exception_ptr(7)), "unknown exception");
  EXPECT_EQ(exception_message(nullptr), "unknown exception");
}

}  // namespace
}  // namespace bucketpay::http
