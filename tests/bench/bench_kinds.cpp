// Cost per bucket of every node kind at 48 assets, each fed its real upstream values: the blue
// graph run in-process on window caches (no actors), timing only each kernel's compute().
// Usage: shoal_bench_kinds [BUCKETS]. Prints "kind_us_per_bucket <kind> <µs>".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/kind_registry.hpp"
#include "actors/fabricator/fabricator.hpp"
#include "runtime/window/window_cache.hpp"

using namespace shoal;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::int64_t second = 1'000'000'000;

// One node: its kind's kernel on a window cache with one-per-bucket ports.
struct bench_node {
  std::string label;
  std::unique_ptr<window_cache> cache;
  std::unique_ptr<kernel> kern;
  double total_ns = 0;
  std::size_t fired = 0;
  std::vector<double> samples_ns;  // one per firing, for the p99
  std::uint64_t seq = 0;

  bench_node(std::string l, const std::string& kind, value_map params) : label(std::move(l)) {
    const kind_info* k = find_kind(kind);
    auto p = k->normalize(params);
    std::vector<port_spec> ports;
    for (const auto& name : k->ports) {
      const bool opt = std::count(k->optional_ports.begin(), k->optional_ports.end(), name) > 0;
      ports.push_back({name, true, std::nullopt, opt});
    }
    cache = std::make_unique<window_cache>(ports, second, k->min_period(p), on_missing::skip);
    kern = k->make(p, kernel_context{std::string(64, '7'), second, k->min_period(p)});
  }

  // Feeds bucket b (one value per port, in port order); returns the output if it fired.
  std::optional<value_ptr> feed(std::int64_t b, const std::vector<value_ptr>& in) {
    ++seq;
    for (std::size_t p = 0; p < in.size(); ++p) {
      if (in[p]) cache->offer(p, seq, b, in[p]);
      cache->watermark(p, b + second - 1);
    }
    std::optional<value_ptr> out;
    while (auto r = cache->next_ready()) {
      if (r->status != fire_status::fire) continue;
      kernel_input ki{r->bucket, {}};
      for (std::size_t p = 0; p < cache->port_count(); ++p) ki.ports.push_back(&cache->ring(p));
      const auto t0 = clock_type::now();
      Value v = kern->compute(ki);
      const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
      total_ns += ns;
      samples_ns.push_back(ns);
      ++fired;
      if (!kern->take_withheld()) out = make_value(std::move(v));
    }
    return out;
  }

  double p99_us() const {
    if (samples_ns.empty()) return 0;
    std::vector<double> s = samples_ns;
    const auto k = static_cast<std::ptrdiff_t>(0.99 * static_cast<double>(s.size() - 1));
    std::nth_element(s.begin(), s.begin() + k, s.end());
    return s[static_cast<std::size_t>(k)] / 1000.0;
  }
  std::uint64_t note_count(const std::string& why) const {
    const auto it = kern->notes().find(why);
    return it == kern->notes().end() ? 0 : it->second;
  }
};

value_ptr or_null(const std::optional<value_ptr>& v) { return v ? *v : nullptr; }

}  // namespace

int main(int argc, char** argv) {
  const int buckets = argc > 1 ? std::stoi(argv[1]) : 3000;
  fabricator gen(value_map{{"seed", Value(3)},
                           {"assets", Value(48)},
                           {"levels", Value(5)},
                           {"start", Value(1'767'225'600)}},
                 second);
  auto windows = Value(value_list{Value(50), Value(150), Value(300), Value(750)});
  bench_node ret("log_return", "log_return", {});
  bench_node ema("ema", "ema", {});
  bench_node z("zscore", "zscore", {});
  bench_node vol("rolling_vol", "rolling_vol", {});
  bench_node vwap("vwap", "vwap", {});
  bench_node scanner("eigen_scanner[50,150,300,750]", "eigen_scanner", {{"windows", windows}});
  bench_node scanner2("eigen_scanner[50,150]", "eigen_scanner", {});
  bench_node selector("asset_selector", "asset_selector", {});
  bench_node dc("dc_signal", "dc_signal", {});
  bench_node ob("ob_features", "ob_features", {});
  bench_node acb("acb", "acb", {});
  bench_node mc("mc_forewarner", "mc_forewarner", {});
  bench_node esof("esof", "esof", {});
  bench_node posture("posture", "posture", {});
  bench_node sizing("sizing", "sizing", {});
  bench_node mirror("sizing_mirror", "sizing_mirror", {});

  for (int k = 0; k < buckets; ++k) {
    fabricated_bucket fb = gen.next();
    const std::int64_t b = fb.bucket;
    auto scan = make_value(fb.scan);
    value_map books;
    for (auto& [ts, book] : fb.books) books.emplace(book.find("asset")->as_string(), book);
    auto ob_bucket = make_value(Value(std::move(books)));
    auto r = ret.feed(b, {scan});
    ema.feed(b, {or_null(r)});
    z.feed(b, {or_null(r)});
    vol.feed(b, {or_null(r)});
    vwap.feed(b, {scan, or_null(r)});
    auto sc = scanner.feed(b, {scan});
    scanner2.feed(b, {scan});
    auto sel = selector.feed(b, {scan});
    auto d = dc.feed(b, {or_null(sel), scan});
    auto o = ob.feed(b, {ob_bucket});
    auto a = acb.feed(b, {or_null(sc)});
    auto m = mc.feed(b, {or_null(sc)});
    auto e = esof.feed(b, {scan});
    auto p = posture.feed(b, {or_null(a)});
    const std::vector<value_ptr> surfaces{or_null(sel), or_null(d), or_null(p), or_null(e),
                                          or_null(a),   or_null(m), or_null(o)};
    sizing.feed(b, surfaces);
    mirror.feed(b, surfaces);
  }
  std::printf("kinds: 48 assets, %d buckets (fabricator seed 3); microseconds per fired bucket\n",
              buckets);
  for (const bench_node* n : {&ret, &ema, &z, &vol, &vwap, &scanner, &scanner2, &selector, &dc, &ob,
                              &acb, &mc, &esof, &posture, &sizing, &mirror})
    std::printf("  kind_us_per_bucket %-30s %8.1f  (%zu buckets, p99 %.1f)\n", n->label.c_str(),
                n->fired ? n->total_ns / 1000.0 / n->fired : 0.0, n->fired, n->p99_us());
  // The scanner's λ_max takes the exact path when the warm power iteration proves nothing.
  for (const bench_node* n : {&scanner, &scanner2}) {
    const std::size_t windows_per_bucket = n == &scanner ? 4 : 2;
    std::printf("  scanner_exact_path_share %-30s %.4f\n", n->label.c_str(),
                n->fired ? static_cast<double>(n->note_count("lambda_exact")) /
                               static_cast<double>(n->fired * windows_per_bucket)
                         : 0.0);
  }
  return 0;
}
