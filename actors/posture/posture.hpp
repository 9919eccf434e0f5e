#pragma once
#include <cstdint>
#include <optional>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// posture (design §8) on acb outputs: stress 0..3 -> APEX, STALKER, TURTLE, HIBERNATE.
// Output {posture}. An input that is not a valid acb payload (messages/payloads.hpp) gives nil
// and the note "malformed_acb".
kind_info posture_kind();

// nullptr outside 0..3.
const char* posture_of_stress(std::int64_t stress);

class posture_kernel final : public kernel {
 public:
  Value compute(const kernel_input& in) override;
};

}  // namespace shoal
