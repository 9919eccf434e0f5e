#include "actors/core/cpu_features.hpp"

namespace shoal {

bool cpu_has_avx() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = __builtin_cpu_supports("avx");
  return yes;
#else
  return false;
#endif
}

}  // namespace shoal
