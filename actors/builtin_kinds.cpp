#include "actors/builtin_kinds.hpp"

#include "actors/core/kind_code_hash.hpp"

#include "actors/acb/acb.hpp"
#include "actors/asset_selector/asset_selector.hpp"
#include "actors/dc_signal/dc_signal.hpp"
#include "actors/eigen_scanner/eigen_scanner.hpp"
#include "actors/ema/ema.hpp"
#include "actors/esof/esof.hpp"
#include "actors/log_return/log_return.hpp"
#include "actors/mc_forewarner/mc_forewarner.hpp"
#include "actors/ob_features/ob_features.hpp"
#include "actors/posture/posture.hpp"
#include "actors/rolling_vol/rolling_vol.hpp"
#include "actors/sizing/sizing.hpp"
#include "actors/sizing_mirror/sizing_mirror.hpp"
#include "actors/stream/stream.hpp"
#include "actors/vwap/vwap.hpp"
#include "actors/zscore/zscore.hpp"

namespace shoal {

std::vector<kind_info> builtin_kinds() {
  // Each kind with the folder of actors/ its code lives in, which gives its code hash.
  std::pair<kind_info, const char*> kinds[] = {{stream_kind(), "stream"},
                                               {log_return_kind(), "log_return"},
                                               {ema_kind(), "ema"},
                                               {zscore_kind(), "zscore"},
                                               {rolling_vol_kind(), "rolling_vol"},
                                               {vwap_kind(), "vwap"},
                                               {eigen_scanner_kind(), "eigen_scanner"},
                                               {ob_features_kind(), "ob_features"},
                                               {asset_selector_kind(), "asset_selector"},
                                               {dc_signal_kind(), "dc_signal"},
                                               {acb_kind(), "acb"},
                                               {mc_forewarner_kind(), "mc_forewarner"},
                                               {esof_kind(), "esof"},
                                               {posture_kind(), "posture"},
                                               {sizing_kind(), "sizing"},
                                               {sizing_mirror_kind(), "sizing_mirror"}};
  std::vector<kind_info> out;
  for (auto& [k, folder] : kinds) {
    k.code_hash = std::string(kind_code_hash(folder));
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace shoal
