#include "actors/stream/stream.hpp"

namespace shoal {
namespace {

class identity_kernel final : public kernel {
 public:
  Value compute(const kernel_input& in) override { return *in.port(0).back().v; }
  // The payload itself, shared: a stream's output is its event, never a copy of it.
  value_ptr compute_shared(const kernel_input& in) override { return in.port(0).back().v; }
};

}  // namespace

kind_info stream_kind() {
  kind_info k;
  k.name = "identity";
  k.summary = "emits the input's bucket value unchanged (source streams run on it)";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.make = [](const value_map&, const kernel_context&) {
    return std::make_unique<identity_kernel>();
  };
  return k;
}

}  // namespace shoal
