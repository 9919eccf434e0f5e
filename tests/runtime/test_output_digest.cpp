#include <catch2/catch.hpp>

#include <openssl/sha.h>

#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "messages/hex.hpp"
#include "runtime/store/output_digest.hpp"

using namespace shoal;

namespace {

// The chain by its definition (decisions, "Digests"), with OpenSSL's one-shot SHA256: H0 = 32
// zero bytes, Hi = SHA-256(Hi-1 ‖ output i).
std::string chain_by_hand(const std::vector<std::string>& outputs) {
  unsigned char h[32] = {};
  for (const auto& o : outputs) {
    std::string in(reinterpret_cast<const char*>(h), 32);
    in += o;
    SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), h);
  }
  return to_hex({reinterpret_cast<const char*>(h), 32});
}

}  // namespace

TEST_CASE("output digest: chains hashed on the worker equal chains hashed in place",
          "[digest]") {
  // Three chains fed interleaved, outputs from 1 byte to twice a batch, a few larger than all
  // the worker lets wait, more in all than that (so producers block on it), as replay --digest
  // feeds them. A lone output larger than max_pending, and a flush midway, must go through
  // (a worker that missed them would hang this test). Both ways of filling the batch: locked
  // (producers on actor threads) and by one thread without a lock (an inline replay).
  const bool one_producer = GENERATE(false, true);
  std::mt19937_64 rng(11);
  constexpr int chains = 3;
  std::vector<std::vector<std::string>> outputs(chains);
  std::vector<std::int64_t> buckets;
  digest_board background(true, one_producer);
  std::vector<std::shared_ptr<digest_chain>> on_worker;
  std::vector<digest_chain> in_place;
  for (int c = 0; c < chains; ++c) {
    on_worker.push_back(background.chain("id" + std::to_string(c)));
    in_place.emplace_back("id" + std::to_string(c));
  }
  std::size_t total = 0;
  for (int i = 0; i < 6000; ++i) {
    const int c = static_cast<int>(rng() % chains);
    const std::size_t size = i % 1999 == 1  ? 2 * digest_worker::max_pending + 7
                             : i % 500 == 0 ? 2 * digest_worker::batch_bytes
                                            : 1 + rng() % 2000;
    std::string bytes(size, '\0');
    for (auto& ch : bytes) ch = static_cast<char>(rng());
    const auto bucket = static_cast<std::int64_t>(i) * 1'000'000'000;
    const std::string name = "node" + std::to_string(c);
    on_worker[c]->add(name, bucket, bytes);
    in_place[c].add(name, bucket, bytes);
    outputs[c].push_back(std::move(bytes));
    total += size;
    if (i == 2500) {
      on_worker[c]->flush();
      CHECK(on_worker[c]->result().digest == chain_by_hand(outputs[c]));
    }
  }
  REQUIRE(total > digest_worker::max_pending);
  const digest_set got = background.result();
  REQUIRE(got.size() == chains);
  for (int c = 0; c < chains; ++c) {
    const node_digest want = in_place[c].result();
    const node_digest& have = got.at("node" + std::to_string(c));
    CHECK(have.id == want.id);
    CHECK(have.outputs == outputs[c].size());
    CHECK(have.outputs == want.outputs);
    CHECK(have.digest == want.digest);
    CHECK(have.digest == chain_by_hand(outputs[c]));
    CHECK(have.last_bucket == want.last_bucket);
    CHECK(have.marks == want.marks);
    CHECK(have.marks.size() == outputs[c].size() / digest_chain::mark_every);
  }
}

// A batch filled without a lock from two threads would be corrupt without a word: the second
// thread is refused instead.
TEST_CASE("output digest: a one-producer worker refuses an output from a second thread",
          "[digest]") {
  digest_board board(true, true);
  auto a = board.chain("a");
  a->add("a", 0, "first");
  std::string refused;
  std::thread([&] {
    try {
      board.chain("b")->add("b", 0, "second");
    } catch (const std::logic_error& e) {
      refused = e.what();
    }
  }).join();
  CHECK(refused.find("second thread") != std::string::npos);
  a->add("a", 1, "third");
  const digest_set got = board.result();
  CHECK(got.at("a").outputs == 2);
  CHECK(got.count("b") == 0);
}

TEST_CASE(
    "output digest: bytes written into the batch chain as bytes added and a write that "
    "throws leaves nothing behind",
    "[digest]") {
  digest_board background(true);
  const auto on_worker = background.chain("w");
  digest_chain in_place("p");
  std::vector<std::string> outputs;
  for (int i = 0; i < 3000; ++i) {
    const std::string bytes(1 + (i * 7919) % 1500, static_cast<char>('a' + i % 26));
    const auto bucket = static_cast<std::int64_t>(i);
    if (i % 3 == 0) {
      on_worker->add("n", bucket, bytes);
    } else {
      // Written in two appends, as an encoder writes its parts.
      auto write = [&](std::string& out) {
        out.append(bytes, 0, bytes.size() / 2);
        out.append(bytes, bytes.size() / 2);
      };
      on_worker->add_written("n", bucket, write);
      in_place.add_written("n", bucket, write);
    }
    if (i % 3 == 0) in_place.add("n", bucket, bytes);
    outputs.push_back(bytes);
    if (i % 700 == 5) {
      // Half written, then failed: neither its bytes nor an item may stay in the batch.
      auto half_then_throw = [](std::string& out) {
        out.append(100, 'z');
        throw std::runtime_error("cannot encode");
      };
      CHECK_THROWS_WITH(on_worker->add_written("n", bucket, half_then_throw), "cannot encode");
      CHECK_THROWS_WITH(in_place.add_written("n", bucket, half_then_throw), "cannot encode");
    }
  }
  const digest_set got = background.result();
  CHECK(got.at("n").outputs == outputs.size());
  CHECK(got.at("n").digest == chain_by_hand(outputs));
  CHECK(in_place.result().digest == chain_by_hand(outputs));
}

TEST_CASE("output digest: a chain outlives its board, and is hashed before it goes",
          "[digest]") {
  auto board = std::make_unique<digest_board>(true);
  auto chain = board->chain("id");
  std::vector<std::string> outputs;
  const auto add = [&](int i) {
    outputs.emplace_back(10'000, static_cast<char>(i));
    chain->add("n", i, outputs.back());
  };
  for (int i = 0; i < 100; ++i) add(i);
  board.reset();  // the chain keeps the worker
  for (int i = 100; i < 110; ++i) add(i);
  chain->flush();
  const node_digest d = chain->result();
  CHECK(d.outputs == 110);
  CHECK(d.digest == chain_by_hand(outputs));
  CHECK(d.last_bucket == 109);
  // Dropped with a batch still open: its destructor hands it over and waits, so the worker
  // never touches a freed chain (the sanitizer build would report it).
  for (int i = 110; i < 120; ++i) add(i);
  chain.reset();
}
