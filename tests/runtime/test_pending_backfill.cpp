// pending_backfill: what a dir's meta says its backfill has left to do, and where a stop left it;
// read back as written, a position shoal would not write read as the journal's start, and more
// nodes starting the backfill over.
#include <catch2/catch.hpp>

#include "messages/decode_error.hpp"
#include "messages/msgpack_codec.hpp"
#include "runtime/engine/pending_backfill.hpp"

using namespace shoal;

namespace {

pending_backfill stopped_midway() {
  pending_backfill b;
  b.through = 900;
  b.nodes = {"aa", "bb"};
  b.from = 300;
  b.states = {{"aa", std::string("\x00\xff state", 8)}, {"up", "its upstream's"}};
  return b;
}

}  // namespace

TEST_CASE("runtime: pending backfill: read back as written, states as bytes",
          "[runtime][backfill]") {
  const auto b = decode_backfill(encode_backfill(stopped_midway()));
  REQUIRE(b);
  CHECK(b->through == 900);
  CHECK(b->nodes == std::set<std::string>{"aa", "bb"});
  CHECK(b->from == 300);
  CHECK(b->states == stopped_midway().states);

  pending_backfill fresh;  // from the journal's start
  fresh.through = 50;
  fresh.nodes = {"aa"};
  const auto f = decode_backfill(encode_backfill(fresh));
  REQUIRE(f);
  CHECK(f->from == 0);
  CHECK(f->states.empty());
}

TEST_CASE("runtime: pending backfill: nothing to do, or a position shoal would not write",
          "[runtime][backfill]") {
  CHECK_FALSE(decode_backfill(""));
  pending_backfill none = stopped_midway();
  none.nodes.clear();
  CHECK_FALSE(decode_backfill(encode_backfill(none)));
  none = stopped_midway();
  none.through = 0;
  CHECK_FALSE(decode_backfill(encode_backfill(none)));
  CHECK_THROWS_AS(decode_backfill("\xc1"), decode_error);

  // Past `through`, without states, or a state that is not bytes: from the journal's start.
  pending_backfill past = stopped_midway();
  past.from = 901;
  auto b = decode_backfill(encode_backfill(past));
  REQUIRE(b);
  CHECK(b->from == 0);
  CHECK(b->states.empty());

  pending_backfill stateless = stopped_midway();
  stateless.states.clear();
  b = decode_backfill(encode_backfill(stateless));
  REQUIRE(b);
  CHECK(b->from == 0);

  const std::string odd =
      to_msgpack(Value(value_map{{"through", Value(900)},
                                 {"nodes", Value(value_list{Value("aa")})},
                                 {"from", Value(300)},
                                 {"states", Value(value_map{{"aa", Value(7)}})}}));
  b = decode_backfill(odd);
  REQUIRE(b);
  CHECK(b->nodes == std::set<std::string>{"aa"});
  CHECK(b->from == 0);
  CHECK(b->states.empty());

  // A stop after the last batch (from == through) is a position shoal writes.
  pending_backfill done = stopped_midway();
  done.from = 900;
  b = decode_backfill(encode_backfill(done));
  REQUIRE(b);
  CHECK(b->from == 900);
}

TEST_CASE("runtime: pending backfill: more nodes start it over, the same ones go on",
          "[runtime][backfill]") {
  pending_backfill b = stopped_midway();
  b.add({"bb"}, 1200);  // already in it, later through: it goes on from where it is
  CHECK(b.through == 1200);
  CHECK(b.from == 300);
  CHECK_FALSE(b.states.empty());
  b.add({"aa"}, 100);  // an earlier through never shortens it
  CHECK(b.through == 1200);
  CHECK(b.from == 300);
  b.add({"bb", "cc"}, 1000);  // cc needs its outputs from the journal's start
  CHECK(b.nodes == std::set<std::string>{"aa", "bb", "cc"});
  CHECK(b.through == 1200);
  CHECK(b.from == 0);
  CHECK(b.states.empty());
}
