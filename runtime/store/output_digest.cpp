#include "runtime/store/output_digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "messages/hex.hpp"
#include "messages/records.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

void digest_chain::add(std::string_view name, std::int64_t bucket, std::string_view bytes) {
  if (count_ == 0) name_ = name;
  // One context per thread: a chain is fed by one actor at a time, many chains per thread.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           EVP_MD_CTX_free);
  // Fetched once: EVP_sha256() looks the algorithm up in the provider store (under a lock) on
  // every init, which cost more than hashing a 1 KB output.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned int len = 0;
  if (!ctx || !sha256 || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), h_.data(), h_.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), h_.data(), &len) != 1)
    throw std::runtime_error("SHA-256 failed");
  ++count_;
  last_bucket_ = bucket;
  if (count_ % mark_every == 0)
    marks_.push_back({count_, bucket, to_hex({reinterpret_cast<const char*>(h_.data()), 32})});
}

node_digest digest_chain::result() const {
  return {id_, count_, to_hex({reinterpret_cast<const char*>(h_.data()), 32}), last_bucket_,
          marks_};
}

std::shared_ptr<digest_chain> digest_board::chain(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& c = chains_[id];
  if (!c) c = std::make_shared<digest_chain>(id);
  return c;
}

digest_set digest_board::result() const {
  std::lock_guard lock(mu_);
  digest_set out;
  for (const auto& [id, c] : chains_)
    if (!c->name().empty()) out[c->name()] = c->result();
  return out;
}

digest_set digest_of_store(const store& s) {
  std::map<std::string, digest_chain> chains;
  const decode_limits limits = stored_data_limits();
  s.for_each_output([&](std::string_view id, std::int64_t bucket, std::string_view bytes) {
    auto it = chains.find(std::string(id));
    std::string name;
    if (it == chains.end()) {
      it = chains.emplace(std::string(id), digest_chain(std::string(id))).first;
      name = decode_output(bytes, limits).node;
    }
    it->second.add(name, bucket, bytes);
  });
  digest_set out;
  for (const auto& [id, c] : chains) out[c.name()] = c.result();
  return out;
}

nlohmann::json to_json(const digest_set& d) {
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [name, n] : d) {
    nlohmann::json marks = nlohmann::json::array();
    for (const auto& m : n.marks) marks.push_back({m.count, m.bucket, m.digest});
    nodes[name] = {{"id", n.id},
                   {"outputs", n.outputs},
                   {"digest", n.digest},
                   {"last_bucket", n.last_bucket},
                   {"marks", marks}};
  }
  return {{"format", "shoal-digest/1"}, {"nodes", nodes}};
}

digest_set digest_set_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
    throw std::runtime_error("not a shoal digest file (no \"nodes\" object)");
  digest_set out;
  for (const auto& [name, n] : j["nodes"].items()) {
    try {
      node_digest d;
      d.id = n.at("id").get<std::string>();
      d.outputs = n.at("outputs").get<std::uint64_t>();
      d.digest = n.at("digest").get<std::string>();
      d.last_bucket = n.at("last_bucket").is_null() ? 0 : n.at("last_bucket").get<std::int64_t>();
      for (const auto& m : n.at("marks"))
        d.marks.push_back({m.at(0).get<std::uint64_t>(), m.at(1).get<std::int64_t>(),
                           m.at(2).get<std::string>()});
      out[name] = std::move(d);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("node \"" + name + "\": " + e.what());
    }
  }
  return out;
}

}  // namespace shoal
