// The dashboard: one self-contained HTML page (inline CSS and JS, charts drawn on <canvas>, nothing
// loaded from anywhere else) served at GET /. It polls GET /v1/dashboard every 2 s.
//
// Authentication: the page itself is public (it holds no data). It reads the API token from the
// URL fragment (http://127.0.0.1:8080/#token=bpt_...), which browsers never send to the server nor
// put in Referer headers, and sends it as `Authorization: Bearer` on its own requests. Without a
// fragment it asks for the token in a form.
#pragma once

#include <string_view>

namespace bucketpay::service {

std::string_view dashboard_page();

}  // namespace bucketpay::service
