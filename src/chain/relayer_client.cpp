// The HTTP relayer client (bucketpay/relayer_client.h) over cpp-httplib.
#include "bucketpay/relayer_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

namespace bucketpay::eth {

namespace {

using nlohmann::json;

// At most this much of an answer goes into a message.
std::string snippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return s;
}

// The reason a relayer gives with a refusal: {"error": "..."} (or "message"), else the body.
std::string refusal_reason(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    for (const char* key : {"error", "message", "reason"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string()) return snippet(it->get_ref<const std::string&>());
    }
  }
  return snippet(body);
}

class HttpRelayerClient final : public RelayerClient {
 public:
  HttpRelayerClient(RelayerOptions options, std::unique_ptr<httplib::Client> client, std::string prefix)
      : options_(std::move(options)), client_(std::move(client)), prefix_(std::move(prefix)) {}

  [[nodiscard]] const std::string& url() const override { return options_.url; }

  Result<RelayQuote> quote(BundleKind kind, std::uint32_t notes) override {
    const std::string path =
        "/v1/relay/quote?kind=" + std::string(bundle_kind_name(kind)) + "&notes=" + std::to_string(notes);
    BUCKETPAY_ASSIGN_OR_RETURN(const Answer a, request("GET", path, ""));
    if (a.status != 200) return unexpected(a, "a quote");
    auto q = decode_quote(a.body);
    if (!q.ok()) return corrupt("a quote", q.status().message());
    if (q->kind != kind || q->notes != notes) {
      return corrupt("a quote", "it quoted " + std::string(bundle_kind_name(q->kind)) + " of " +
                                    std::to_string(q->notes) + " notes for " + std::string(bundle_kind_name(kind)) +
                                    " of " + std::to_string(notes));
    }
    return q;
  }

  Result<RelayStatus> submit(const RelayBundle& bundle, const Hash32& digest) override {
    BUCKETPAY_ASSIGN_OR_RETURN(const Answer a, request("POST", "/v1/relay", encode_bundle(bundle)));
    if (a.status != 200 && a.status != 202) return unexpected(a, "the payment " + to_hex(digest));
    auto s = decode_status(a.body);
    if (!s.ok()) return corrupt("its status of a payment", s.status().message());
    if (s->digest != digest) {
      return corrupt("its status of a payment", "it names digest " + to_hex(s->digest) + ", not " + to_hex(digest));
    }
    return s;
  }

  Result<std::optional<RelayStatus>> status(const Hash32& digest) override {
    BUCKETPAY_ASSIGN_OR_RETURN(const Answer a, request("GET", "/v1/relay/" + to_hex(digest), ""));
    if (a.status == 404) return std::optional<RelayStatus>();
    if (a.status != 200) return unexpected(a, "the status of " + to_hex(digest));
    auto s = decode_status(a.body);
    if (!s.ok()) return corrupt("its status of a payment", s.status().message());
    if (s->digest != digest) {
      return corrupt("its status of a payment", "it names digest " + to_hex(s->digest) + ", not " + to_hex(digest));
    }
    return std::optional<RelayStatus>(*s);
  }

 private:
  struct Answer {
    int status = 0;
    std::string body;
  };

  Result<Answer> request(const std::string& method, const std::string& path, const std::string& body) {
    try {
      httplib::Request req;
      req.method = method;
      req.path = prefix_ + path;
      if (!body.empty()) {
        req.body = body;
        req.headers.emplace("Content-Type", "application/json");
      }
      Answer a;
      bool too_large = false;
      req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
        if (a.body.size() + n > options_.max_response_bytes) {
          too_large = true;
          return false;
        }
        a.body.append(data, n);
        return true;
      };
      httplib::Response res;
      httplib::Error err = httplib::Error::Success;
      const auto start = std::chrono::steady_clock::now();
      bool sent = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        sent = client_->send(req, res, err);
      }
      const std::string where = method + " " + path + " at the relayer " + options_.url;
      if (!sent) {
        if (too_large) {
          return Status::corruption("the answer to " + where + " exceeds " +
                                    std::to_string(options_.max_response_bytes) + " bytes");
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        if (err == httplib::Error::ConnectionTimeout ||
            (err == httplib::Error::Read && elapsed >= options_.timeout * 9 / 10)) {
          return Status::timeout("no answer to " + where + " within " + std::to_string(options_.timeout.count()) +
                                 " ms");
        }
        return Status::unavailable("cannot reach " + where + ": " + httplib::to_string(err));
      }
      a.status = res.status;
      return a;
    } catch (const std::exception& e) {
      return Status::internal("relayer request " + method + " " + path + ": " + e.what());
    }
  }

  Status unexpected(const Answer& a, const std::string& what) const {
    if (a.status >= 400 && a.status < 500) {
      return Status::failed_precondition("the relayer at " + options_.url + " refused " + what + " (HTTP " +
                                         std::to_string(a.status) + "): " + refusal_reason(a.body));
    }
    if (a.status >= 500) {
      return Status::unavailable("the relayer at " + options_.url + " failed on " + what + " (HTTP " +
                                 std::to_string(a.status) + "): " + refusal_reason(a.body));
    }
    return Status::corruption("the relayer at " + options_.url + " answered HTTP " + std::to_string(a.status) +
                              " for " + what);
  }

  Status corrupt(const std::string& what, const std::string& why) const {
    return Status::corruption("the relayer at " + options_.url + " sent " + what + " that breaks the API: " + why);
  }

  RelayerOptions options_;
  std::unique_ptr<httplib::Client> client_;
  std::string prefix_;  // the URL's path, without a trailing slash
  std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<RelayerClient>> connect_relayer(RelayerOptions options) {
  const std::string url = options.url;
  std::string_view rest = url;
  std::string scheme;
  if (rest.starts_with("http://")) {
    scheme = "http";
  } else if (rest.starts_with("https://")) {
    scheme = "https";
  } else {
    return Status::invalid_argument("a relayer URL starts with http:// or https://: '" + url + "'");
  }
  rest.remove_prefix(scheme.size() + 3);
  const std::size_t slash = rest.find('/');
  const std::string host_port(rest.substr(0, slash));
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (host_port.empty()) return Status::invalid_argument("a relayer URL has a host: '" + url + "'");
  if (prefix.find_first_of("?#") != std::string::npos) {
    return Status::invalid_argument("a relayer URL has no query or fragment: '" + url + "'");
  }
  const std::size_t colon = host_port.rfind(':');
  if (colon != std::string::npos) {
    const std::string port = host_port.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
        std::stoi(port) > 65535) {
      return Status::invalid_argument("a relayer URL has a bad port: '" + url + "'");
    }
  }
  if (options.timeout.count() <= 0) return Status::invalid_argument("the relayer timeout must be positive");
  try {
    auto client = std::make_unique<httplib::Client>(scheme + "://" + host_port);
    if (!client->is_valid()) return Status::invalid_argument("the relayer URL is not usable: '" + url + "'");
    const auto secs = static_cast<time_t>(options.timeout.count() / 1000);
    const auto usecs = static_cast<time_t>((options.timeout.count() % 1000) * 1000);
    client->set_connection_timeout(secs, usecs);
    client->set_read_timeout(secs, usecs);
    client->set_write_timeout(secs, usecs);
    client->set_keep_alive(true);
    return std::unique_ptr<RelayerClient>(new HttpRelayerClient(std::move(options), std::move(client), prefix));
  } catch (const std::exception& e) {
    return Status::invalid_argument("the relayer URL is not usable: '" + url + "': " + e.what());
  }
}

}  // namespace bucketpay::eth
