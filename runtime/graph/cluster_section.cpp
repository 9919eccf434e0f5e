// [cluster]: servers, this engine's id, the stream and its replicas (design §12).
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "runtime/graph/detail/cluster_section.hpp"
#include "runtime/graph/detail/table_reader.hpp"

namespace shoal::detail {

bool plain_token(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

namespace {

// "nats://host:port", "tls://host:port" or "host:port" with a numeric port.
bool server_url(const std::string& s) {
  std::string rest = s;
  for (const char* scheme : {"nats://", "tls://"})
    if (s.rfind(scheme, 0) == 0) rest = s.substr(std::char_traits<char>::length(scheme));
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  const std::string port = rest.substr(colon + 1);
  return port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

// tls = { ca_file, cert_file, key_file }, credentials_file, user and password_file: file names
// only (see cluster_security), made absolute against the config file's dir.
void parse_security(table_reader& r, cluster_security& sec) {
  if (r.has("password"))
    r.fail("password",
           "is not read: put the password in a file (mode 0600) and name it in "
           "password_file; configs are journaled and published to the cluster");
  const auto dir = std::filesystem::path(r.doc().path()).parent_path();
  auto file = [&](table_reader& t, const char* key, std::string& out) {
    if (auto p = t.str(key)) {
      if (p->empty()) t.fail(key, "must name a file");
      out = std::filesystem::path(*p).is_relative() ? (dir / *p).lexically_normal().string() : *p;
    }
  };
  if (const toml::value* t = r.get("tls")) {
    if (!t->is_table())
      r.fail("tls",
             "must be a table { ca_file = \"...\", cert_file = \"...\", key_file = \"...\" }");
    table_reader tr(*t, r.doc(), "cluster.tls");
    file(tr, "ca_file", sec.ca_file);
    file(tr, "cert_file", sec.cert_file);
    file(tr, "key_file", sec.key_file);
    if (sec.cert_file.empty() != sec.key_file.empty())
      tr.fail(sec.cert_file.empty() ? "cert_file" : "key_file",
              "cert_file and key_file go together: a client certificate and its private key");
    tr.finish();
  }
  file(r, "credentials_file", sec.credentials_file);
  if (auto u = r.str("user")) {
    if (u->empty()) r.fail("user", "must not be empty");
    sec.user = *u;
  }
  file(r, "password_file", sec.password_file);
  if (sec.user.empty() != sec.password_file.empty())
    r.fail(sec.user.empty() ? "user" : "password_file",
           "user and password_file go together (the password itself never goes in a config: "
           "configs are journaled and published to the cluster)");
  if (!sec.credentials_file.empty() && !sec.user.empty())
    r.fail("credentials_file", "give either credentials_file or user and password_file, not both");
}

}  // namespace

cluster_decl parse_cluster_section(const toml_file& doc, const std::string& engine_name) {
  cluster_decl c;
  c.engine_id = engine_name;
  if (!doc.root().as_table().count("cluster")) return c;
  const toml::value& t = doc.root().as_table().at("cluster");
  if (!t.is_table()) throw config_error(doc.loc(t), "cluster", "must be a table ([cluster])");
  table_reader r(t, doc, "cluster");
  c.enabled = true;
  c.loc = r.loc();
  c.servers = r.str_list("servers");
  if (c.servers.empty())
    r.fail("servers",
           "is required: the URLs of the cluster's servers, e.g. [\"nats://127.0.0.1:4222\"]");
  for (const auto& s : c.servers)
    if (s.find('@') != std::string::npos)
      r.fail("servers",
             "a server URL must not hold a user or password (user:password@host): configs are "
             "journaled and published to the cluster; use user and password_file");
  for (const auto& s : c.servers)
    if (!server_url(s)) r.fail("servers", "\"" + s + "\" is not nats://host:port (or tls://)");
  auto token = [&](const char* key, std::string& out) {
    if (auto s = r.str(key)) {
      if (!plain_token(*s)) r.fail(key, "\"" + *s + "\" must be 1-64 letters, digits, '-' or '_'");
      out = *s;
    }
  };
  token("engine_id", c.engine_id);
  if (!plain_token(c.engine_id))
    r.fail("engine_id",
           "the engine's name \"" + c.engine_id +
               "\" cannot name it in the cluster (letters, digits, '-', '_'); set engine_id");
  token("stream", c.stream);
  token("subjects", c.subjects);
  if (auto n = r.integer("replicas")) {
    if (*n < 1 || *n > 5) r.fail("replicas", "must be in [1, 5]");
    c.replicas = *n;
  }
  if (auto d = r.duration("duplicate_window")) {
    if (*d < 1'000'000'000 || *d > 86'400'000'000'000)
      r.fail("duplicate_window", "must be in [1s, 24h]");
    c.duplicate_window_ns = *d;
  }
  if (auto d = r.duration("heartbeat_ttl")) {
    if (*d < 1'000'000'000 || *d > 60'000'000'000) r.fail("heartbeat_ttl", "must be in [1s, 60s]");
    c.heartbeat_ttl_ns = *d;
  }
  if (auto n = r.integer("members")) {
    if (*n < 1 || *n > 64) r.fail("members", "must be in [1, 64]");
    c.members = *n;
  }
  if (auto b = r.boolean("checkpoints")) c.checkpoints = *b;
  if (auto d = r.duration("checkpoint_retention")) {
    if (*d < 10'000'000'000 || *d > 365 * 86'400'000'000'000)
      r.fail("checkpoint_retention", "must be in [10s, 365d]");
    c.checkpoint_retention_ns = *d;
  }
  if (auto b = r.boolean("active_takes")) c.active_takes = *b;
  if (auto b = r.boolean("active_gives")) c.active_gives = *b;
  if (auto x = r.number("rebalance_above")) {
    if (!(*x == 0 || (*x >= 1.1 && *x <= 100)))
      r.fail("rebalance_above", "must be 0 (off) or in [1.1, 100]");
    c.rebalance_above = *x;
  }
  if (auto d = r.duration("rebalance_every")) {
    if (*d < 1'000'000'000 || *d > 86'400'000'000'000)
      r.fail("rebalance_every", "must be in [1s, 24h]");
    c.rebalance_every_ns = *d;
  }
  if (auto b = r.boolean("stream_outputs")) c.stream_outputs = *b;
  parse_security(r, c.security);
  r.finish();
  return c;
}

}  // namespace shoal::detail
