#pragma once
// console: the operator console (design §13), a web page the engine serves on loopback
// ([engine] console = "127.0.0.1:PORT"), on the admin server's io thread. The page and its
// script are built into the binary (runtime/admin/console/); its data comes from the admin
// commands, over HTTP:
//   GET  /                        the page (console.html, console.js, console.css)
//   GET  /api/CMD?ARG=…           a read-only admin command (version, graph, nodes, inspect,
//                                 window, outputs, strategies, metrics, subscribers)
//   POST /api/CMD?node=…          pause, resume, restart (fresh=1)
//   GET  /api/events              server-sent events: `nodes` every second (live states, counters)
// Answers are the admin answers as JSON ({"ok": false, "error"} with 400 for a refusal).
// Who may ask: the console needs an admin_token (≥ 16 characters; a config error otherwise) and
// every /api request must carry it (`Authorization: Bearer …`, or `?token=` for the live stream),
// 401 otherwise — answered after a delay that doubles per failure (token_throttle), then the
// connection closes; the page takes it from its own address (`/?token=…`). Requests whose Host is
// not 127.0.0.1, localhost or [::1] (DNS rebinding) or whose Origin is another site (a web page
// posting across sites) are refused (403), and no page may frame the console. At most 8 live
// streams at once; they share one `nodes` answer per half second.

#include <memory>
#include <string>

#include "runtime/admin/admin_protocol.hpp"
#include "runtime/admin/http_endpoint.hpp"
#include "runtime/admin/token_throttle.hpp"

namespace shoal {

// throttle: the admin server's (one delay for every token guess, on the TCP port or here); used
// on the io thread only, and outlives the route.
http_route console_route(std::shared_ptr<admin_backend> backend, std::string token,
                         token_throttle* throttle);

}  // namespace shoal
