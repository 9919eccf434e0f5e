// Shared asset-name lists (messages/shared_lists.hpp): decoded name lists and the vector
// outputs derived from them share one list object, which behaves exactly like an owned list —
// same equality, same bytes — while a copy of the payload copies a pointer.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "actors/core/asset_view.hpp"
#include "messages/msgpack_codec.hpp"
#include "messages/shared_lists.hpp"

using namespace shoal;

namespace {

Value scan(std::vector<std::string> names, std::vector<double> prices) {
  value_list assets;
  for (auto& n : names) assets.emplace_back(std::move(n));
  return Value(value_map{{"assets", Value(std::move(assets))},
                         {"prices", Value(f64_vector(std::move(prices)))}});
}

const shared_list* assets_of(const Value& v) { return v.find("assets")->as_shared_list(); }

}  // namespace

TEST_CASE("shared lists: equal name lists decode to one object", "[msgpack][shared]") {
  const std::string a = to_msgpack(scan({"AAA", "BBB", "CCC"}, {1, 2, 3}));
  const std::string b = to_msgpack(scan({"AAA", "BBB", "CCC"}, {4, 5, 6}));
  const std::string c = to_msgpack(scan({"AAA", "BBB", "CCD"}, {4, 5, 6}));
  const Value va = from_msgpack(a), vb = from_msgpack(b), vc = from_msgpack(c);
  REQUIRE(assets_of(va));
  REQUIRE(assets_of(vb));
  REQUIRE(assets_of(vc));
  CHECK(assets_of(va)->get() == assets_of(vb)->get());
  CHECK(assets_of(va)->get() != assets_of(vc)->get());
  CHECK(vc.find("assets")->as_list()[2].as_string() == "CCD");
  // Interning notes whether the names ascend, so readers skip the per-payload check.
  CHECK((*assets_of(va))->ascending);
  const Value vd = from_msgpack(to_msgpack(scan({"BBB", "AAA"}, {1, 2})));
  CHECK_FALSE((*assets_of(vd))->ascending);
  const Value ve = from_msgpack(to_msgpack(scan({"AAA", "AAA"}, {1, 2})));
  CHECK_FALSE((*assets_of(ve))->ascending);  // a repeat is not strictly ascending
  std::vector<asset_entry> view;
  REQUIRE(read_asset_view(vd, view));
  REQUIRE(view.size() == 2);
  CHECK(view[0].name == "AAA");  // still sorted by the reader
  // The wire form is unchanged: decoded values re-encode to the same bytes.
  CHECK(to_msgpack(va) == a);
  CHECK(to_msgpack(vc) == c);
  // Lists that are not all strings stay owned.
  const Value mixed = from_msgpack(to_msgpack(Value(value_list{"x", 1})));
  CHECK(mixed.is_list());
  CHECK_FALSE(mixed.as_shared_list());
}

TEST_CASE("shared lists: a shared and an owned list are the same value", "[msgpack][shared]") {
  const Value owned(value_list{"AAA", "BBB"});
  const Value shared(intern_name_list(2, [](std::size_t i) { return i ? "BBB" : "AAA"; }));
  REQUIRE(shared.as_shared_list());
  CHECK(shared.is_list());
  CHECK(shared == owned);
  CHECK(owned == shared);
  CHECK_FALSE(shared == Value(value_list{"AAA", "BBC"}));
  CHECK_FALSE(shared == Value("AAA"));
  CHECK(std::string(shared.type_name()) == "list");
  CHECK(to_msgpack(shared) == to_msgpack(owned));
  CHECK(msgpack_size(shared) == to_msgpack(owned).size());
  // Its bytes are written once, at interning; a list built without them encodes the same.
  CHECK((*shared.as_shared_list())->encoded == to_msgpack(owned));
  const Value unencoded(
      std::make_shared<const shared_names>(shared_names{value_list{"AAA", "BBB"}, true, {}}));
  CHECK(to_msgpack(unencoded) == to_msgpack(owned));
  CHECK(msgpack_size(unencoded) == to_msgpack(owned).size());
  // Long lists take the 16- and 32-bit array headers (the longest is not kept, nor its bytes).
  for (std::size_t n : {15u, 16u, 70000u}) {
    value_list names;
    for (std::size_t i = 0; i < n; ++i) names.emplace_back("n" + std::to_string(i));
    const Value big(intern_name_list(
        n, [&](std::size_t i) -> std::string_view { return names[i].as_string(); }));
    CHECK(to_msgpack(big) == to_msgpack(Value(names)));
    CHECK(msgpack_size(big) == to_msgpack(Value(names)).size());
  }
  CHECK(resident_bytes(shared) >= 2 * sizeof(Value));
}

TEST_CASE("shared lists: an output over a scan shares the scan's list", "[msgpack][shared]") {
  const Value in = from_msgpack(to_msgpack(scan({"AAA", "BBB", "CCC"}, {1, 2, 3})));
  std::vector<asset_entry> view;
  REQUIRE(read_asset_view(in, view));
  const Value out = make_asset_values(view);
  REQUIRE(assets_of(out));
  CHECK(assets_of(out)->get() == assets_of(in)->get());
  // Given its input, an output with every input asset takes the input's list by pointer,
  // even when this thread never cached that list (it was decoded on another thread).
  const Value elsewhere(
      value_map{{"assets", Value(std::make_shared<const shared_names>(
                               shared_names{value_list{"AAA", "BBB", "CCC"}, true, {}}))},
                {"prices", Value(f64_vector{1, 2, 3})}});
  REQUIRE(read_asset_view(elsewhere, view));
  const Value out2 = make_asset_values(view, &elsewhere);
  CHECK(assets_of(out2)->get() == assets_of(elsewhere)->get());
  // A subset is another list, with the right names.
  view.erase(view.begin() + 1);
  const Value part = make_asset_values(view);
  CHECK(part.find("assets")->as_list() == value_list{"AAA", "CCC"});
  CHECK(assets_of(part)->get() != assets_of(in)->get());
}

TEST_CASE("shared lists: a huge list is not kept, a small cache evicts", "[msgpack][shared]") {
  // Over max_bytes of entries and names: each decode builds its own list (nothing pinned in the
  // cache). Short names count their entries' memory: 20,000 of them are about 1.3 MB held.
  std::vector<std::string> names;
  for (int i = 0; i < 20000; ++i) names.push_back("n" + std::to_string(i));
  const std::string big = to_msgpack(scan(names, std::vector<double>(names.size(), 1.0)));
  const Value b1 = from_msgpack(big), b2 = from_msgpack(big);
  CHECK(assets_of(b1)->get() != assets_of(b2)->get());
  CHECK(b1 == b2);
  // More distinct lists than the cache holds: the least recently used goes. A list in use
  // (the scans' own, seen between the others) stays; one not seen again is evicted, and
  // decoding it again still gives the right names.
  const std::string hot = to_msgpack(scan({"H0", "H1"}, {1, 2}));
  const std::string cold = to_msgpack(scan({"F0", "F1"}, {1, 2}));
  const Value h1 = from_msgpack(hot);
  const Value f1 = from_msgpack(cold);
  for (std::size_t i = 0; i < 2 * shared_list_cache::capacity; ++i) {
    from_msgpack(to_msgpack(scan({"G" + std::to_string(i), "H"}, {1, 2})));
    CHECK(assets_of(from_msgpack(hot))->get() == assets_of(h1)->get());
  }
  const Value f2 = from_msgpack(cold);
  CHECK(assets_of(f1)->get() != assets_of(f2)->get());
  CHECK(f1 == f2);
}
