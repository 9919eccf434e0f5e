#pragma once
// kernel: the pure computation of one node kind. It reads the node's window (one slot_ring per
// input port, in the kind's port order) when a bucket fires and returns the output value.
// Kernels know nothing of actors, sockets or storage, so they are tested as plain objects.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/core/slot_ring.hpp"
#include "messages/value.hpp"

namespace shoal {

struct kernel_input {
  std::int64_t bucket = 0;
  std::vector<const slot_ring*> ports;  // in the kind's port order

  const slot_ring& port(std::size_t i) const { return *ports.at(i); }
};

// What a kernel knows about the node it runs in (deterministic inputs only).
struct kernel_context {
  std::string node_id;  // hex NodeID
  std::int64_t interval_ns = 0;
  std::size_t period = 1;
};

class kernel {
 public:
  virtual ~kernel() = default;

  // Computes the output for in.bucket. Never returns NaN or infinity: a kernel that cannot
  // compute returns nil (or leaves an asset out) and counts why with note(). Throwing marks
  // the node FAILED with the exception's message.
  virtual Value compute(const kernel_input& in) = 0;
  // compute() as a shared value. A kernel that passes an input on unchanged overrides it to
  // return the input's own value_ptr, so nothing is copied.
  virtual value_ptr compute_shared(const kernel_input& in) { return make_value(compute(in)); }

  // Checkpoint of state the kernel keeps outside its window (an EMA's running values).
  // Stateless kernels keep the defaults.
  virtual Value save_state() const { return Value{}; }
  virtual void restore_state(const Value&) {}

  // True (once) when the last compute() decided to emit nothing for its bucket.
  bool take_withheld() {
    const bool w = withheld_;
    withheld_ = false;
    return w;
  }

  // Whether port i has a value in this bucket (optional ports may not).
  static bool has_value(const kernel_input& in, std::size_t i) {
    const slot_ring& r = in.port(i);
    return !r.empty() && r.back().t == in.bucket;
  }

  // Why outputs or assets were withheld, by reason ("non_positive_price", ...).
  const std::map<std::string, std::uint64_t, std::less<>>& notes() const { return notes_; }
  // Changes whenever notes() does, so a reader can tell it need not copy them again.
  std::uint64_t notes_version() const { return notes_version_; }

 protected:
  // A reason already counted costs a lookup, no allocation (kernels note per asset).
  void note(std::string_view why, std::uint64_t n = 1) {
    auto it = notes_.find(why);
    if (it == notes_.end()) it = notes_.emplace(std::string(why), 0).first;
    it->second += n;
    ++notes_version_;
  }
  // Emit no output for this bucket (counted under `why`); compute()'s return value is ignored.
  void withhold(std::string_view why) {
    note(why);
    withheld_ = true;
  }

 private:
  std::map<std::string, std::uint64_t, std::less<>> notes_;
  std::uint64_t notes_version_ = 0;
  bool withheld_ = false;
};

}  // namespace shoal
