#include "relay_metrics.h"

#include <sstream>

namespace bucketpay::relay {

void RelayMetrics::received(std::string_view kind) {
  std::lock_guard lock(mu_);
  ++received_[std::string(kind)];
}

void RelayMetrics::refused(Refusal refusal) {
  std::lock_guard lock(mu_);
  ++refused_[std::string(refusal_name(refusal))];
}

void RelayMetrics::submitted() {
  std::lock_guard lock(mu_);
  ++submitted_;
}

void RelayMetrics::sent_again() {
  std::lock_guard lock(mu_);
  ++sent_again_;
}

void RelayMetrics::mined(const eth::U256& fee, std::uint64_t gas_used, const eth::U256& wei) {
  std::lock_guard lock(mu_);
  ++mined_;
  fees_earned_ += fee;
  gas_spent_ += gas_used;
  wei_spent_ += wei;
}

void RelayMetrics::failed(std::uint64_t gas_used, const eth::U256& wei, const eth::U256& fee) {
  std::lock_guard lock(mu_);
  ++failed_;
  fees_earned_ += fee;
  gas_spent_ += gas_used;
  wei_spent_ += wei;
}

void RelayMetrics::request(std::string_view route, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), status}];
}

std::string RelayMetrics::render(const RelayCounts& journal) const {
  std::lock_guard lock(mu_);
  std::ostringstream o;
  const auto counter = [&](std::string_view name, std::string_view help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
  };
  counter("bucketpay_relay_bundles_received_total", "Bundles posted to the relayer, by kind.");
  for (std::string_view kind : {"spend_batch", "split", "unknown"}) {
    auto it = received_.find(std::string(kind));
    o << "bucketpay_relay_bundles_received_total{kind=\"" << kind << "\"} " << (it == received_.end() ? 0 : it->second)
      << "\n";
  }
  counter("bucketpay_relay_bundles_refused_total", "Bundles refused before anything was sent, by reason.");
  for (Refusal r :
       {Refusal::kMalformed, Refusal::kTooLarge, Refusal::kWrongChain, Refusal::kWrongPool, Refusal::kWrongFeeRecipient,
        Refusal::kFeeBelowQuote, Refusal::kFeeAboveValue, Refusal::kDeadline, Refusal::kNullifierMismatch,
        Refusal::kDuplicateNullifier, Refusal::kBadSignature, Refusal::kReverted}) {
    auto it = refused_.find(std::string(refusal_name(r)));
    o << "bucketpay_relay_bundles_refused_total{reason=\"" << refusal_name(r) << "\"} "
      << (it == refused_.end() ? 0 : it->second) << "\n";
  }
  counter("bucketpay_relay_transactions_submitted_total", "Transactions the node accepted (first broadcast).");
  o << "bucketpay_relay_transactions_submitted_total " << submitted_ << "\n";
  counter("bucketpay_relay_transactions_resent_total",
          "Journaled transactions broadcast again byte for byte (the node had dropped them).");
  o << "bucketpay_relay_transactions_resent_total " << sent_again_ << "\n";
  counter("bucketpay_relay_transactions_mined_total", "The relayer's transactions mined and succeeded.");
  o << "bucketpay_relay_transactions_mined_total " << mined_ << "\n";
  counter("bucketpay_relay_transactions_failed_total",
          "Journal entries failed: reverted (e.g. paid by someone else's copy), never mined, or not sent.");
  o << "bucketpay_relay_transactions_failed_total " << failed_ << "\n";
  counter("bucketpay_relay_fees_earned_total", "Fees paid to the relayer's account, in token base units.");
  o << "bucketpay_relay_fees_earned_total " << fees_earned_.to_decimal() << "\n";
  counter("bucketpay_relay_gas_spent_total", "Gas used by the relayer's mined transactions (reverted included).");
  o << "bucketpay_relay_gas_spent_total " << gas_spent_ << "\n";
  counter("bucketpay_relay_wei_spent_total", "What the relayer's mined transactions cost, in wei.");
  o << "bucketpay_relay_wei_spent_total " << wei_spent_.to_decimal() << "\n";
  o << "# HELP bucketpay_relay_journal_entries Journal entries by state.\n"
       "# TYPE bucketpay_relay_journal_entries gauge\n";
  const std::pair<std::string_view, std::int64_t> states[] = {{"received", journal.received},
                                                              {"signed", journal.signed_},
                                                              {"submitted", journal.submitted},
                                                              {"mined", journal.mined},
                                                              {"failed", journal.failed}};
  for (const auto& [state, n] : states) {
    o << "bucketpay_relay_journal_entries{state=\"" << state << "\"} " << n << "\n";
  }
  counter("bucketpay_relay_http_requests_total", "HTTP answers by route and status code.");
  for (const auto& [key, n] : requests_) {
    o << "bucketpay_relay_http_requests_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} " << n
      << "\n";
  }
  return o.str();
}

}  // namespace bucketpay::relay
