#pragma once
// The console's page, script and style (runtime/admin/console/), built into the binary by
// cmake/embed_console.cmake.

#include <string_view>

namespace shoal {

extern const std::string_view console_html;
extern const std::string_view console_js;
extern const std::string_view console_css;

}  // namespace shoal
