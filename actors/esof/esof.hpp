#pragma once
#include <cstdint>

#include "actors/core/kind_registry.hpp"

namespace shoal {

// esof (design §8): a calendar score of the bucket's UTC start time; the input's payload is
// ignored (any stream can clock it).
//   score = clamp(0.6 sin(2π·minute_of_day/1440) + 0.4 cos(2π·weekday/7), -1, 1)
// minute_of_day = whole minutes since UTC midnight, weekday Monday = 0 … Sunday = 6 (Python's
// datetime.weekday()), both floored so times before 1970 work. label FAVORABLE if
// score >= 0.3, UNFAVORABLE if score <= -0.3, else NEUTRAL. Output {score, label}.
kind_info esof_kind();

struct esof_calendar {
  std::int64_t minute_of_day;  // 0..1439
  std::int64_t weekday;        // 0 = Monday
};
esof_calendar esof_calendar_of(std::int64_t t_ns);
double esof_score(std::int64_t t_ns);
const char* esof_label(double score);

class esof_kernel final : public kernel {
 public:
  Value compute(const kernel_input& in) override;
};

}  // namespace shoal
