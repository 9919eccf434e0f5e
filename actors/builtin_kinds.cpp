#include "actors/builtin_kinds.hpp"

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
  return {stream_kind(),         log_return_kind(), ema_kind(),           zscore_kind(),
          rolling_vol_kind(),    vwap_kind(),       eigen_scanner_kind(), ob_features_kind(),
          asset_selector_kind(), dc_signal_kind(),  acb_kind(),           mc_forewarner_kind(),
          esof_kind(),           posture_kind(),    sizing_kind(),        sizing_mirror_kind()};
}

}  // namespace shoal
