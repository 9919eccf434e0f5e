#pragma once
// Boost.Asio for the admin socket and its client. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility> (fails with GCC 12 in C++20 mode), so include it first — in this
// header, where sorting includes cannot move it behind Asio.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on
