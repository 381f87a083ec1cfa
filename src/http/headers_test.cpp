// The request-header parsers (headers.h) on the values clients send, and on the ones they must not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bucketpay/http_headers.h"

namespace bucketpay::http {
namespace {

TEST(BearerToken, TheSchemeInAnyCaseThenTheToken) {
  EXPECT_EQ(bearer_token("Bearer bpt_0123_abcdef"), "bpt_0123_abcdef");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER abc+/=="), "abc+/==");
  EXPECT_EQ(bearer_token("Bearer a-b.c_d~e"), "a-b.c_d~e");
}

TEST(BearerToken, AnythingElseIsNoToken) {
  for (const char* bad :
       {"", "Bearer", "Bearer ", "Bearer  ", "Bearer  abc", "Basic abc", "Bearerabc", "Bearer\tabc", "Bearer a b",
        "Bearer abc ", "Bearer =abc", "Bearer ab=c", "Bearer a\x01", "Bearer a\r\nX: y", "Token abc", " Bearer abc"}) {
    EXPECT_FALSE(bearer_token(bad).has_value()) << bad;
  }
}

TEST(ContentType, JsonWithOrWithoutParameters) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/json;charset=utf-8"));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("application/jsonp"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
}

TEST(HostName, NamesAddressesAndPorts) {
  EXPECT_EQ(host_name("LocalHost:8080"), "localhost");
  EXPECT_EQ(host_name("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(host_name("[::1]:80"), "::1");
  EXPECT_EQ(host_name("[FE80::1]"), "fe80::1");
  EXPECT_EQ(host_name("pay.example.com"), "pay.example.com");
  for (const char* bad :
       {"", ":80", "a:", "a:b", "a:123456", "a b", "a/b", "[::1", "[::1]x", "[::1]:", "[nothost]", "a@b", "a\r\n"}) {
    EXPECT_FALSE(host_name(bad).has_value()) << bad;
  }
}

TEST(HostAllowed, AddressesLocalhostAndTheListedNamesOnly) {
  const std::vector<std::string> none;
  const std::vector<std::string> listed = {"Pay.Example.com"};
  EXPECT_TRUE(host_allowed("127.0.0.1:8080", none));
  EXPECT_TRUE(host_allowed("10.1.2.3", none));
  EXPECT_TRUE(host_allowed("[::1]:8080", none));
  EXPECT_TRUE(host_allowed("localhost:8080", none));
  EXPECT_TRUE(host_allowed("localhost.", none));
  // A rebinding page's own name, pointed at 127.0.0.1 by its DNS.
  EXPECT_FALSE(host_allowed("evil.example:8080", none));
  EXPECT_FALSE(host_allowed("localhost.evil.example", none));
  EXPECT_FALSE(host_allowed("127.0.0.1.evil.example", none));
  EXPECT_FALSE(host_allowed("", none));
  EXPECT_FALSE(host_allowed("pay.example.com", none));
  EXPECT_TRUE(host_allowed("pay.example.com:443", listed));
  EXPECT_TRUE(host_allowed("PAY.EXAMPLE.COM.", listed));
  EXPECT_FALSE(host_allowed("example.com", listed));
}

}  // namespace
}  // namespace bucketpay::http
