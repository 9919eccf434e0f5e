#include "runtime/store/output_digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "messages/hex.hpp"
#include "messages/records.hpp"
#include "runtime/store/store.hpp"

namespace shoal {

void digest_chain::add(std::string_view name, std::int64_t bucket, std::string_view bytes) {
  if (worker_) {
    worker_->add(this, bucket, bytes);
  } else {
    hash(bucket, bytes);
  }
  if (name_.empty()) name_ = name;
}

void digest_chain::flush() {
  if (worker_) worker_->flush();
}

void digest_chain::hash(std::int64_t bucket, std::string_view bytes) {
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

digest_chain::digest_chain(digest_chain&& other)
    : id_(std::move(other.id_)),
      name_(std::move(other.name_)),
      h_(other.h_),
      count_(other.count_),
      last_bucket_(other.last_bucket_),
      marks_(std::move(other.marks_)) {
  if (other.worker_) throw std::logic_error("a digest chain with a worker cannot move");
}

digest_chain::~digest_chain() {
  // The worker holds this chain's address until it has hashed its outputs. A hashing failure
  // is the board's to report (result() flushes too); a destructor cannot throw it.
  try {
    flush();
  } catch (const std::exception&) {
  }
}

digest_worker::digest_worker(bool one_producer)
    : one_producer_(one_producer), thread_([this] { run(); }) {}

digest_worker::~digest_worker() {
  {
    std::lock_guard open_lock(open_mu_);
    hand_over();
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void digest_worker::add(digest_chain* chain, std::int64_t bucket, std::string_view bytes) {
  add_written(chain, bucket, [&](std::string& out) { out.append(bytes); });
}

void digest_worker::hand_over() {
  if (open_.items.empty()) return;
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return pending_ < max_pending; });
  pending_ += open_.bytes.size();
  queue_.push_back(std::move(open_));
  open_ = {};
  if (!spare_.empty()) {  // a hashed batch's buffers: no fresh pages to fault in
    open_ = std::move(spare_.back());
    spare_.pop_back();
  }
  ++handed_;
  work_.notify_one();
}

void digest_worker::flush() {
  std::lock_guard open_lock(open_mu_);
  hand_over();
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return done_ == handed_; });
  if (error_) std::rethrow_exception(error_);
}

void digest_worker::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything handed over is hashed
    batch b = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::size_t at = 0;
    std::exception_ptr failed;
    try {
      for (const auto& i : b.items) {
        i.chain->hash(i.bucket, std::string_view(b.bytes).substr(at, i.size));
        at += i.size;
      }
    } catch (...) {  // not on this thread: flush() rethrows it to whoever reads the digests
      failed = std::current_exception();
    }
    lock.lock();
    if (failed && !error_) error_ = failed;
    pending_ -= b.bytes.size();
    ++done_;
    b.items.clear();
    b.bytes.clear();
    spare_.push_back(std::move(b));
    room_.notify_all();
  }
}

digest_board::digest_board(bool background, bool one_producer)
    : worker_(background ? std::make_shared<digest_worker>(one_producer) : nullptr) {}

std::shared_ptr<digest_chain> digest_board::chain(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& c = chains_[id];
  if (!c) c = std::make_shared<digest_chain>(id, worker_);
  return c;
}

digest_set digest_board::result() const {
  if (worker_) worker_->flush();
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
