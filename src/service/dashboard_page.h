// The dashboard: one self-contained HTML page (inline CSS and JS, charts drawn on <canvas>, nothing
// loaded from anywhere else) served at GET /. It polls GET /v1/dashboard every 2 s.
//
// Authentication: the page itself is public (it holds no data); it sends an API token (a read
// token is enough) as `Authorization: Bearer` on its own requests. It takes the token from a form,
// or once from a link's URL fragment (http://127.0.0.1:8080/#token=bpt_..., which browsers never
// send to the server nor put in Referer headers): it then replaces its URL and history entry with
// the bare path at once, so the token is in neither. The tab keeps the token in sessionStorage
// (gone with the tab; never localStorage, never the URL). A 401 (a wrong or revoked token) shows
// the form again, saying so, and a token entered there works without a reload; "Forget token"
// drops it from the tab.
#pragma once

#include <string_view>

namespace bucketpay::service {

std::string_view dashboard_page();

}  // namespace bucketpay::service
