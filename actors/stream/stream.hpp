#pragma once
#include "actors/core/kind_registry.hpp"

namespace shoal {

// identity: emits its input's bucket value unchanged. Source streams (pass 0) run on it, and a
// graph may use it to republish an upstream under another name.
kind_info stream_kind();

}  // namespace shoal
