#include "actors/posture/posture.hpp"

#include "messages/decode_error.hpp"
#include "messages/payloads.hpp"

namespace shoal {

const char* posture_of_stress(std::int64_t stress) {
  static constexpr const char* names[] = {"APEX", "STALKER", "TURTLE", "HIBERNATE"};
  return stress >= 0 && stress <= 3 ? names[stress] : nullptr;
}

Value posture_kernel::compute(const kernel_input& in) {
  const Value& v = *in.port(0).back().v;
  // The whole acb schema is checked, not just stress: a payload that fails it is not an acb
  // output, and trusting its stress would hide a wiring mistake.
  try {
    validate_acb(v);
  } catch (const decode_error&) {
    note("malformed_acb");
    return Value{};
  }
  return Value(value_map{{"posture", Value(posture_of_stress(v.find("stress")->as_int()))}});
}

kind_info posture_kind() {
  kind_info k;
  k.steady_outputs = true;  // a regime holds for long stretches
  k.name = "posture";
  k.summary = "acb stress 0..3 -> APEX, STALKER, TURTLE, HIBERNATE";
  k.normalize = [](const value_map& p) { return param_reader(p).finish(); };
  k.make = [](const value_map&, const kernel_context&) {
    return std::make_unique<posture_kernel>();
  };
  return k;
}

}  // namespace shoal
