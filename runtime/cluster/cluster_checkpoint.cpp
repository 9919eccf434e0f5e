#include "runtime/cluster/cluster_checkpoint.hpp"

#include <nlohmann/json.hpp>

#include "runtime/cluster/jetstream_link.hpp"
#include "runtime/graph/node_id.hpp"

namespace shoal {

namespace {

// Under the servers' default max_payload (1 MiB) with room for the message's headers.
constexpr std::size_t chunk_bytes = 256 * 1024;

void put_u32(std::string& out, std::size_t n) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const std::string& in, std::size_t& at) {
  if (at + 4 > in.size()) throw cluster_error("cluster checkpoint: truncated");
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  at += 4;
  return n;
}

std::string get_bytes(const std::string& in, std::size_t& at) {
  const std::uint32_t n = get_u32(in, at);
  if (at + n > in.size()) throw cluster_error("cluster checkpoint: truncated");
  std::string s = in.substr(at, n);
  at += n;
  return s;
}

// (key, value) pairs, each a length-prefixed string: the meta under the empty key, then the
// states under their NodeIDs.
std::string pack(const checkpoint_copy& cp) {
  std::string out;
  auto entry = [&](const std::string& k, const std::string& v) {
    put_u32(out, k.size());
    out += k;
    put_u32(out, v.size());
    out += v;
  };
  entry("", cp.meta);
  for (const auto& [id, state] : cp.states) entry(id, state);
  return out;
}

checkpoint_copy unpack(const std::string& bytes, std::uint64_t pos) {
  checkpoint_copy cp;
  cp.journal_pos = pos;
  for (std::size_t at = 0; at < bytes.size();) {
    std::string k = get_bytes(bytes, at);
    std::string v = get_bytes(bytes, at);
    if (k.empty())
      cp.meta = std::move(v);
    else
      cp.states.emplace(std::move(k), std::move(v));
  }
  return cp;
}

}  // namespace

std::string checkpoints_bucket(const cluster_decl& c) { return c.stream + "_checkpoints"; }

void put_cluster_checkpoint(jetstream_link& link, const cluster_decl& c,
                            const checkpoint_copy& cp) {
  const std::string bucket = checkpoints_bucket(c), head_key = c.engine_id + ".head";
  link.ensure_kv(bucket, 0, c.replicas);
  std::string slot = "a";
  if (const auto head = link.kv_get(bucket, head_key)) {
    try {
      if (nlohmann::json::parse(head->value).value("slot", "") == "a") slot = "b";
    } catch (const nlohmann::json::exception&) {
      // a damaged head: either slot will do
    }
  }
  const std::string bytes = pack(cp);
  std::size_t chunks = 0;
  for (std::size_t at = 0; at < bytes.size() || chunks == 0; at += chunk_bytes, ++chunks)
    link.kv_put(bucket, c.engine_id + "." + slot + "." + std::to_string(chunks),
                bytes.substr(at, chunk_bytes));
  link.kv_put(bucket, head_key,
              nlohmann::json{{"journal_pos", cp.journal_pos},
                             {"slot", slot},
                             {"chunks", chunks},
                             {"bytes", bytes.size()},
                             {"sha256", sha256_hex(bytes)},
                             {"nodes", cp.states.size()}}
                  .dump());
}

std::optional<checkpoint_copy> get_cluster_checkpoint(jetstream_link& link, const cluster_decl& c) {
  const std::string bucket = checkpoints_bucket(c);
  link.ensure_kv(bucket, 0, c.replicas);
  const auto head = link.kv_get(bucket, c.engine_id + ".head");
  if (!head) return std::nullopt;
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(head->value);
  } catch (const nlohmann::json::exception& e) {
    throw cluster_error("cluster checkpoint of engine " + c.engine_id +
                        ": its head is not JSON: " + e.what());
  }
  const std::string slot = h.value("slot", "");
  const std::uint64_t pos = h.value("journal_pos", std::uint64_t{0});
  const std::size_t chunks = h.value("chunks", std::size_t{0});
  std::string bytes;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::string key = c.engine_id + "." + slot + "." + std::to_string(i);
    const auto chunk = link.kv_get(bucket, key);
    if (!chunk)
      throw cluster_error("cluster checkpoint of engine " + c.engine_id + " at journal record " +
                          std::to_string(pos) + ": chunk " + key + " is missing");
    bytes += chunk->value;
  }
  if (bytes.size() != h.value("bytes", std::size_t{0}) ||
      sha256_hex(bytes) != h.value("sha256", std::string()))
    throw cluster_error("cluster checkpoint of engine " + c.engine_id + " at journal record " +
                        std::to_string(pos) + " is damaged (its size or SHA-256 differs)");
  return unpack(bytes, pos);
}

}  // namespace shoal
