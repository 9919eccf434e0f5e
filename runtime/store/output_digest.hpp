#pragma once
// The wire digest of a node's outputs (decisions, "Digests"): H0 = 32 zero bytes,
// Hi = SHA-256(Hi-1 ‖ stored Output bytes of output i), outputs in seq order. The chain value is
// also marked every 1,024 outputs with its bucket, so two digests that differ can be narrowed to
// a range of buckets without the outputs themselves.
//
// `shoal replay --digest` computes it while replaying (nothing stored), `digest_of_store` from a
// data dir's stored outputs; `shoal parity` and the scenario references compare them. The JSON
// form: {"format": "shoal-digest/1", "nodes": {NAME: {id, outputs, digest, last_bucket, marks:
// [[count, bucket, digest]…]}}}, keyed by the node's (first) name as its outputs carry it.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

class store;

struct digest_mark {
  std::uint64_t count = 0;  // outputs chained so far
  std::int64_t bucket = 0;  // bucket of the count-th output
  std::string digest;       // chain value after it (hex)
  bool operator==(const digest_mark&) const = default;
};

struct node_digest {
  std::string id;
  std::uint64_t outputs = 0;
  std::string digest;  // hex
  std::int64_t last_bucket = 0;
  std::vector<digest_mark> marks;
};

using digest_set = std::map<std::string, node_digest>;  // by node name

// One node's chain, fed output by output in seq order (by one thread at a time).
class digest_chain {
 public:
  static constexpr std::uint64_t mark_every = 1024;
  explicit digest_chain(std::string id) : id_(std::move(id)) {}
  // bytes: the stored Output (under the node's first name, which becomes the chain's name).
  void add(std::string_view name, std::int64_t bucket, std::string_view bytes);
  const std::string& name() const { return name_; }
  node_digest result() const;

 private:
  std::string id_, name_;
  std::array<unsigned char, 32> h_{};
  std::uint64_t count_ = 0;
  std::int64_t last_bucket_ = 0;
  std::vector<digest_mark> marks_;
};

// The chains of a running engine, one per NodeID; result() once the graph is idle.
class digest_board {
 public:
  std::shared_ptr<digest_chain> chain(const std::string& id);
  digest_set result() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<digest_chain>> chains_;
};

digest_set digest_of_store(const store& s);

nlohmann::json to_json(const digest_set& d);
// Throws std::runtime_error naming what is wrong.
digest_set digest_set_from_json(const nlohmann::json& j);

}  // namespace shoal
