#pragma once
// guarded: runs the body of an asio completion handler so that nothing it throws leaves the
// handler. An exception out of a handler ends io_context::run(), and with it every admin
// endpoint (Unix socket, TCP, /metrics) until the engine restarts; caught here, it costs at
// most the one connection whose handler threw (on_error closes it).

#include <spdlog/spdlog.h>

#include <exception>

#include "runtime/admin/admin_protocol.hpp"

namespace shoal {

template <class Body, class OnError>
void guarded(const char* where, Body&& body, OnError&& on_error) noexcept {
  try {
    body();
    return;
  } catch (const std::exception& e) {
    try {
      spdlog::error("admin: {}: {}; closing that connection", where, escaped(e.what()));
    } catch (...) {
      // Logging must not throw out of here either.
    }
  } catch (...) {
    try {
      spdlog::error("admin: {}: unknown exception; closing that connection", where);
    } catch (...) {
    }
  }
  on_error();
}

}  // namespace shoal
