// JSON in and out of the API's request and response structs (api.h). Parsing is strict: the body
// must be a JSON object with only the fields the request has, each of the right type; the error
// names the field and what was expected.
//
// Pure functions; safe from any thread.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api.h"

namespace bucketpay::service {

Result<CreateJobRequest> parse_create_job(std::string_view body);
// From the query string's parameters (name -> values; a name given twice is an error).
Result<PlanRequest> parse_plan(const std::multimap<std::string, std::string>& params);

nlohmann::json to_json(const CreateJobResponse& r);
nlohmann::json to_json(const JobRecord& r);
nlohmann::json to_json(const PlanResponse& r);
nlohmann::json to_json(const std::vector<WorkerStats>& stats);
nlohmann::json to_json(const DashboardResponse& r);
nlohmann::json to_json(const HealthResponse& r);
nlohmann::json error_json(std::string_view message);

// Serialises without throwing: invalid UTF-8 (e.g. echoed from bad input) becomes U+FFFD.
std::string dump(const nlohmann::json& j);

}  // namespace bucketpay::service
