#include "actors/builtin_kinds.hpp"

#include "actors/ema/ema.hpp"
#include "actors/log_return/log_return.hpp"
#include "actors/stream/stream.hpp"
#include "actors/zscore/zscore.hpp"

namespace shoal {

std::vector<kind_info> builtin_kinds() {
  return {stream_kind(), log_return_kind(), ema_kind(), zscore_kind()};
}

}  // namespace shoal
