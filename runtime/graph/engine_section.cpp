// [engine]: the engine's name, its listeners (ZeroMQ endpoints, admin TCP, metrics HTTP), its
// store's commit policy, its strategy files and the engine it mirrors.
#include <filesystem>
#include <optional>
#include <vector>

#include "runtime/graph/detail/engine_section.hpp"
#include "runtime/graph/detail/table_reader.hpp"
#include "runtime/graph/endpoints.hpp"

namespace shoal::detail {
namespace {

// Two listeners of one engine on one address: the second bind would fail at start.
void check_listeners_distinct(const engine_decl& e) {
  struct listener {
    const char* key;
    const std::string& address;
    std::optional<tcp_listener> tcp;
  };
  std::vector<listener> ls;
  for (const auto& [key, ep] : {std::pair<const char*, const std::string&>{"publish", e.publish},
                                {"publish_tracked", e.publish_tracked},
                                {"snapshot", e.snapshot}})
    if (!ep.empty()) ls.push_back({key, ep, tcp_listener_of_endpoint(ep)});
  for (const auto& [key, hp] :
       {std::pair<const char*, const std::string&>{"admin_tcp", e.admin_tcp},
        {"metrics_http", e.metrics_http},
        {"console", e.console}})
    if (!hp.empty()) ls.push_back({key, hp, tcp_listener_of_hostport(hp)});
  // TCP listeners collide on a port; ipc and inproc endpoints on their name. A TCP endpoint
  // with port * takes a free port: it collides with nothing.
  auto collide = [](const listener& a, const listener& b) {
    if (a.tcp || b.tcp) return a.tcp && b.tcp && same_port(*a.tcp, *b.tcp);
    return a.address == b.address && a.address.rfind("tcp://", 0) != 0;
  };
  for (std::size_t j = 1; j < ls.size(); ++j)
    for (std::size_t i = 0; i < j; ++i)
      if (collide(ls[i], ls[j]))
        throw config_error(e.loc_of(ls[j].key), std::string("engine.") + ls[j].key,
                           "\"" + ls[j].address + "\" is the address of engine." + ls[i].key +
                               " (\"" + ls[i].address + "\"); each listener needs its own");
}

}  // namespace

namespace {

engine_decl parse_engine(const toml_file& doc, std::set<std::string>* asked) {
  engine_decl e;
  const std::string& file = doc.path();
  e.loc = {file, 1};
  if (!doc.root().as_table().count("engine")) return e;
  const toml::value& t = doc.root().as_table().at("engine");
  if (!t.is_table()) throw config_error(doc.loc(t), "engine", "must be a table ([engine])");
  table_reader r(t, doc, "engine");
  e.loc = r.loc();
  for (const auto& [key, _] : t.as_table()) e.key_locs[key] = r.loc(key);

  if (auto s = r.str("name")) e.name = *s;
  auto endpoint = [&](const char* key, std::string& out) {
    if (auto s = r.str(key)) {
      if (auto why = zmq_endpoint_problem(*s, endpoint_role::bind); !why.empty()) r.fail(key, why);
      out = *s;
    }
  };
  endpoint("publish", e.publish);
  endpoint("publish_tracked", e.publish_tracked);
  endpoint("snapshot", e.snapshot);
  if (auto s = r.str("data")) e.data_dir = *s;
  if (auto s = r.str("admin")) e.admin = *s;
  auto loopback = [&](const char* key, std::string& out) {
    if (auto s = r.str(key)) {
      if (auto why = loopback_problem(*s); !why.empty()) r.fail(key, why);
      out = *s;
    }
  };
  loopback("admin_tcp", e.admin_tcp);
  loopback("metrics_http", e.metrics_http);
  loopback("console", e.console);
  check_listeners_distinct(e);
  if (auto s = r.str("admin_token")) e.admin_token = *s;
  if (const toml::value* c = r.get("curve")) {
    if (!c->is_table())
      r.fail("curve", "must be a table { secret_key_file = \"...\", allowed_clients = \"DIR\" }");
    table_reader cr(*c, doc, "engine.curve");
    const auto dir = std::filesystem::path(file).parent_path();
    auto near_config = [&](const std::string& p) {
      return std::filesystem::path(p).is_relative() ? (dir / p).lexically_normal().string() : p;
    };
    e.curve_secret_key_file = near_config(cr.required_str("secret_key_file"));
    e.curve_allowed_clients = near_config(cr.required_str("allowed_clients"));
    cr.finish();
  }
  if (!e.admin_tcp.empty() && e.admin_token.size() < 16)
    r.fail("admin_token", "admin_tcp needs admin_token of at least 16 characters");
  // The console can pause and restart nodes over HTTP, which any local process (and any web
  // page the operator's browser shows) can reach: never without a token.
  if (!e.console.empty() && e.admin_token.size() < 16)
    r.fail("admin_token", "console needs admin_token of at least 16 characters");
  if (auto h = r.integer("publish_hwm")) {
    if (*h < 1 || *h > 10'000'000) r.fail("publish_hwm", "must be in [1, 10000000]");
    e.publish_hwm = *h;
  }
  if (auto n = r.integer("commit_records")) {
    if (*n < 1 || *n > 1'000'000) r.fail("commit_records", "must be in [1, 1000000]");
    e.commit_records = *n;
  }
  if (auto b = r.boolean("publish_after_commit")) e.publish_after_commit = *b;
  if (auto n = r.integer("reject_keep_bytes")) {
    if (*n < 0 || *n > (std::int64_t{64} << 20))
      r.fail("reject_keep_bytes", "must be in [0, 64 MiB]");
    e.reject_keep_bytes = *n;
  }
  if (auto n = r.integer("commit_ms")) {
    if (*n < 1 || *n > 60'000) r.fail("commit_ms", "must be in [1, 60000]");
    e.commit_ms = *n;
  }
  if (auto n = r.integer("workers")) {
    if (*n < 1 || *n > 256) r.fail("workers", "must be in [1, 256]");
    e.workers = *n;
  }
  if (auto n = r.integer("idle_spin_us")) {
    if (*n < 0 || *n > 1'000'000) r.fail("idle_spin_us", "must be in [0, 1000000]");
    e.idle_spin_us = *n;
  }
  auto timeout = [&](const char* key, std::int64_t& out) {
    if (auto d = r.duration(key)) {
      if (*d < 100'000'000 || *d > 86'400'000'000'000) r.fail(key, "must be in [100ms, 24h]");
      out = *d;
    }
  };
  timeout("admin_idle_timeout", e.admin_idle_timeout_ns);
  timeout("metrics_idle_timeout", e.metrics_idle_timeout_ns);
  e.strategies = r.str_list("strategies");
  if (auto m = r.str("mirrors")) {
    if (m->empty()) r.fail("mirrors", "must name the config of the engine this one mirrors");
    e.mirrors = std::filesystem::path(*m).is_relative()
                    ? (std::filesystem::path(file).parent_path() / *m).lexically_normal().string()
                    : *m;
  }
  if (asked) *asked = r.asked();
  r.finish();
  return e;
}

}  // namespace

engine_decl parse_engine_section(const toml_file& doc) { return parse_engine(doc, nullptr); }

std::set<std::string> engine_section_keys() {
  std::set<std::string> keys;
  parse_engine(toml_file("engine_section_keys", "[engine]\n"), &keys);
  return keys;
}

}  // namespace shoal::detail
