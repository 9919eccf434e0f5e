// The admin commands of a running engine (design §9), answered from the plan, the status board
// and, for a node's window and pause/resume, by asking the node actor itself.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "messages/json.hpp"
#include "runtime/engine/engine_impl.hpp"
#include "runtime/provenance/explain.hpp"

namespace shoal {
namespace {

using json = nlohmann::json;

struct command {
  const char* name;
  const char* args;
  const char* summary;
};

constexpr command commands[] = {
    {"help", "", "this list"},
    {"version", "", "engine version, name and graph hash"},
    {"status", "",
     "live, or starting: what the start waits for, and how far a catch-up got (journal records); "
     "answers during a start, as metrics do"},
    {"graph", "", "every node: id, kind, names, pass, inputs; dedup counts"},
    {"nodes", "", "one line per node: state and counters"},
    {"inspect", "node",
     "one node: id, kind and version, params, inputs, names, state, counters, last output, "
     "mailbox, window bytes"},
    {"window", "node", "one node's window C[input, interval, slot, {t, v}] as JSON"},
    {"outputs", "node [n]",
     "a node's last n committed outputs (default 100, at most 1000), oldest first, as published"},
    {"explain", "node bucket [depth]",
     "a stored output, the upstream outputs its window read (depth levels, default 3) down to "
     "the journal events, and the output recomputed from that stretch of journal"},
    {"pause", "[node]", "hold a node's inputs (or every node's), bounded"},
    {"resume", "[node]", "catch up held inputs in order and continue"},
    {"metrics", "", "Prometheus text exposition"},
    {"strategies", "", "strategies and their nodes"},
    {"submit", "text | file [dry_run]",
     "add a strategy (its TOML inline, or a file under the config's directory): spawns only its "
     "new nodes, warmed from stored history; answers the diff (dry_run: without applying)"},
    {"remove", "strategy [dry_run]", "remove a strategy: stops nodes no other strategy uses"},
    {"restart", "node [fresh]",
     "bring a FAILED node back where it stands (the failed bucket has no output), or cold"},
    {"checkpoint", "", "write a checkpoint now (every node's state and the journal position)"},
    {"config", "", "the config files the engine runs"},
    {"cluster", "", "cluster mode: stream, subject, server, journal committed and replicated"},
    {"move", "node process",
     "placed engine, active process: move a node to another placed standby (it restarts to "
     "compute it from its process's checkpoint; that one publishes it until it does)"},
    {"subscribers", "", "tracked subscribers (publish_tracked): topics, sent, dropped"},
    {"log-level", "level", "trace, debug, info, warn, error or off"},
    {"reload-keys", "",
     "read allowed_clients again (CURVE): keys taken out are cut off, keys added get in"},
};

class engine_admin final : public admin_backend {
 public:
  explicit engine_admin(engine::impl& m) : m_(m) {}

  json handle(const std::string& cmd, const json& req) override {
    if (cmd == "status") return status();
    // While the engine starts, start() holds the graph lock and may replace what the commands
    // read: they wait until it is live, and say so.
    if (!m_.progress.live) {
      if (cmd == "metrics") return {{"text", metrics_text()}};
      if (cmd == "help") return help();
      const auto& p = m_.progress;
      std::string doing = p.phase.load();
      if (doing == "catching up")
        doing += " through journal record " + std::to_string(p.through.load()) + " of " +
                 std::to_string(p.last.load());
      throw admin_error("the engine is starting (" + doing + "): \"" + escaped(cmd, 64) +
                        "\" answers once it is live; \"status\" and \"metrics\" answer now");
    }
    // explain reads the store and may replay a stretch of journal: it holds the graph lock only
    // to copy what it reads, so the engine's ticks and checkpoints go on meanwhile.
    if (cmd == "explain") return explain(req);
    if (cmd == "outputs") return outputs(req);  // reads the store without holding the graph
    std::lock_guard lock(m_.graph_mu);
    if (cmd == "help") return help();
    if (cmd == "version")
      return {{"version", SHOAL_ENGINE_VERSION},
              {"engine", m_.cfg.engine.name},
              {"graph_hash", m_.graph->graph_hash}};
    if (cmd == "graph") return graph();
    if (cmd == "nodes") return nodes();
    if (cmd == "inspect") return inspect(node_arg(req));
    if (cmd == "window") return window(node_arg(req));
    if (cmd == "explain") return explain(req);
    if (cmd == "pause" || cmd == "resume") return pause(req, cmd == "pause");
    if (cmd == "metrics") return {{"text", metrics_text()}};
    if (cmd == "strategies") return strategies();
    if (cmd == "submit") {
      const std::string text = strategy_text(req);
      if (flag(req, "dry_run")) return with_dry_run(engine_dry_submit(m_, text));
      return m_.change(Control{"submit", "", value_map{{"text", Value(text)}}});
    }
    if (cmd == "remove") {
      const auto it = req.find("strategy");
      if (it == req.end() || !it->is_string() || it->get<std::string>().empty())
        throw admin_error("missing \"strategy\": the name of a running strategy");
      const std::string name = it->get<std::string>();
      if (flag(req, "dry_run")) return with_dry_run(engine_dry_remove(m_, name));
      return m_.change(Control{"remove", "", value_map{{"strategy", Value(name)}}});
    }
    if (cmd == "restart") {
      const std::string node = m_.graph->nodes[node_arg(req)].name();
      return m_.change(Control{
          "restart", "", value_map{{"node", Value(node)}, {"fresh", Value(flag(req, "fresh"))}}});
    }
    if (cmd == "checkpoint") {
      if (!m_.writer) throw admin_error("no data dir: nothing to checkpoint");
      if (m_.any_paused) throw admin_error("a node is paused: resume it before a checkpoint");
      if (m_.standby)
        throw admin_error(
            "this engine is a standby: it checkpoints as it follows the journal (every "
            "--checkpoint-every buckets) and when it stops");
      m_.checkpoint();
      return {{"journal_pos", m_.checkpoint_position()}};
    }
    if (cmd == "config") return config_files();
    if (cmd == "cluster") return cluster();
    if (cmd == "move") return move(req);
    if (cmd == "subscribers") return subscribers();
    if (cmd == "log-level") return log_level(req);
    if (cmd == "reload-keys") {
      if (!m_.zap)
        throw admin_error("this engine has no [engine] curve: there are no keys to load");
      const std::size_t keys = m_.zap->reload();
      const auto c = m_.zap->counters();
      return {{"keys", keys},
              {"accepted", c.accepted},
              {"unknown_key", c.unknown_key},
              {"no_curve", c.no_curve}};
    }
    throw admin_error("unknown command \"" + cmd + "\" (try {\"cmd\": \"help\"})");
  }

  std::string metrics_text() override {
    if (!m_.progress.live) return starting_metrics_text(m_);
    std::lock_guard lock(m_.graph_mu);
    return engine_metrics_text(m_);
  }

 private:
  static json help() {
    json list = json::array();
    for (const auto& c : commands)
      list.push_back({{"cmd", c.name}, {"args", c.args}, {"summary", c.summary}});
    return {{"commands", list}};
  }

  // Reads only m_.progress: it answers while start() runs.
  json status() const {
    const auto& p = m_.progress;
    const bool live = p.live;
    json j = {{"state", live ? "live" : "starting"},
              {"phase", std::string(p.phase.load())},
              {"engine", p.engine},
              {"seconds_since_start",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - p.began).count()}};
    if (!live && std::string_view(p.phase.load()) == "catching up")
      j["journal"] = {{"through", p.through.load()}, {"last", p.last.load()}};
    // Live, the dir is the engine's for good: what it holds committed, and where a restart on it
    // would go on from (a standby writes its checkpoints as it follows).
    if (live && m_.db) {
      j["journal_committed"] = m_.db->journal_last();
      j["checkpoint_journal_pos"] = m_.checkpoint_position();
    }
    return j;
  }

  json cluster() const {
    std::lock_guard lock(m_.graph_mu);  // a takeover replaces the parts read here
    const cluster_decl& c = m_.cfg.cluster;
    if (!c.enabled) return {{"enabled", false}};
    json j = {{"enabled", true},
              {"engine_id", c.engine_id},
              {"role", m_.standby  ? "standby"
                       : m_.fenced ? "fenced"
                                   : "active"},
              {"stream", c.stream},
              {"subject", c.journal_subject()},
              {"servers", c.servers},
              {"heartbeat_ttl_ms", c.heartbeat_ttl_ns / 1'000'000}};
    // Measured node costs travel by NodeID; an operator reads node names.
    std::map<std::string, std::string> name_of;
    for (const auto& n : m_.graph->nodes) name_of[n.id] = n.name();
    auto by_name = [&](const node_costs& costs) {
      json out = json::object();
      for (const auto& [id, cost] : costs)
        if (auto it = name_of.find(id); it != name_of.end()) out[it->second] = cost;
      return out;
    };
    if (m_.member) {  // as the last renewal read them (every third of heartbeat_ttl)
      json members = json::array();
      for (const auto& mb : m_.member->members()) {
        json e = {{"instance", mb.instance}, {"role", mb.role},       {"publish", mb.publish},
                  {"snapshot", mb.snapshot}, {"journal", mb.journal}, {"lag_ms", mb.lag_ms}};
        if (!mb.costs.empty()) e["costs"] = by_name(mb.costs);
        members.push_back(std::move(e));
      }
      j["members"] = members;
      if (const std::string e = m_.member->last_error(); !e.empty()) j["members_error"] = e;
    }
    if (m_.lease) j["lease"] = m_.lease->instance();
    j["members_wanted"] = c.members;
    if (m_.placement) {  // by node name: which process publishes it, and what this one computes
      json nodes = json::object();
      json computed = json::array();
      json handed = json::object();  // moved off a process that stopped: from which seq on
      for (std::size_t i = 0; i < m_.graph->nodes.size(); ++i) {
        const plan_node& n = m_.graph->nodes[i];
        if (auto it = m_.placement->nodes.find(n.id); it != m_.placement->nodes.end())
          nodes[n.name()] = it->second;
        if (auto h = m_.placement->handed.find(n.id); h != m_.placement->handed.end())
          handed[n.name()] = h->second;
        if (m_.computes(i) && !n.is_stream()) computed.push_back(n.name());
      }
      j["placement"] = {{"holder", m_.placement->holder},
                        {"members", m_.placement->members},
                        {"instance", m_.instance},
                        {"nodes", nodes},
                        {"computed", computed},
                        {"handed", handed},
                        {"costs", by_name(m_.placement->costs)}};
      // The active one: nodes whose process is gone with nowhere to go (nobody publishes them).
      if (!m_.standby && !m_.fenced) {
        json unpublished = json::array();
        for (const auto& n : m_.graph->nodes)
          if (m_.unpublished.count(n.id)) unpublished.push_back(n.name());
        j["placement"]["unpublished"] = unpublished;
      }
      // Where the nodes handed to it started: the checkpoint of the process they came from, or
      // why not (then it rebuilt them from the journal's start).
      if (!m_.handed_restore.is_null()) j["placement"]["handed_restore"] = m_.handed_restore;
      // The nodes it last gave a standby that joined.
      if (!m_.gave.is_null()) j["placement"]["gave"] = m_.gave;
      if (!m_.move_state.is_null()) j["placement"]["move"] = m_.move_state;
    }
    // The outputs of nodes handed to it, made from the journal's start once live.
    if (!m_.backfill_state.is_null()) j["backfill"] = m_.backfill_state;
    if (m_.sweeper) {  // the checkpoints of processes gone for good
      const auto s = m_.sweeper->snapshot();
      j["checkpoint_sweep"] = {{"sweeps", s.sweeps},     {"removed_count", s.removed_count},
                               {"removed", s.removed},   {"waiting", s.waiting},
                               {"failures", s.failures}, {"last_error", s.last_error}};
    }
    if (m_.follower) {
      j["followed"] = m_.follower->followed();
      if (m_.standby) {  // after a takeover nothing is followed
        const journal_follower::lag l = m_.follower->follow_lag();
        j["follow_lag"] = l.records;
        j["follow_lag_ms"] = l.ms;
      }
      j["holder"] = m_.follower->holder();
      if (const std::uint64_t lost = m_.follower->lost_records()) j["journal_lost"] = lost;
      if (!m_.follower->error().empty()) j["follow_error"] = m_.follower->error();
    }
    if (m_.replicator) {
      const replication_stats s = m_.replicator->stats();
      j.update({{"connected", s.server},
                {"committed", s.committed},
                {"replicated", s.replicated},
                {"lag", s.committed - std::min(s.committed, s.replicated)},
                {"lag_ms", s.lag_ms},
                {"stream_seq", s.stream_seq},
                {"sent", s.sent},
                {"duplicates", s.duplicates},
                {"failures", s.failures},
                {"reconnects", s.reconnects},
                {"last_error", s.last_error}});
      if (s.journal_lost) j["journal_lost"] = s.journal_lost;
    }
    if (m_.exporter) {  // stream_outputs
      const output_export_stats s = m_.exporter->stats();
      j["outputs"] = {{"nodes", s.nodes},          {"sent", s.sent},   {"duplicates", s.duplicates},
                      {"failures", s.failures},    {"gaps", s.gaps},   {"filled", s.filled},
                      {"behind", s.behind},        {"holds", s.holds}, {"reads", s.reads},
                      {"last_error", s.last_error}};
    }
    if (m_.uploader) {  // this process's checkpoints in the cluster
      const checkpoint_uploader::stats s = m_.uploader->snapshot();
      j["checkpoint"] = {
          {"journal_pos", s.journal_pos}, {"uploads", s.uploads},      {"bytes", s.bytes},
          {"chunks", s.chunks},           {"last_ms", s.last_ms},      {"skipped", s.skipped},
          {"failures", s.failures},       {"last_error", s.last_error}};
    }
    if (const checkpoint_restore& r = m_.restored; r.restored || !r.why_not.empty()) {
      j["checkpoint_restored"] = r.restored ? json{{"journal_pos", r.journal_pos},
                                                   {"nodes", r.nodes},
                                                   {"bytes", r.bytes},
                                                   {"ms", r.ms}}
                                            : json{{"why_not", r.why_not}};
      if (r.previous) j["checkpoint_restored"]["latest_why_not"] = r.latest_why_not;
    }
    return j;
  }

  json subscribers() const {
    json list = json::array();
    if (m_.pub)
      for (const auto& s : m_.pub->subscribers()) list.push_back(subscriber_json(s));
    return {{"endpoint", m_.cfg.engine.publish_tracked}, {"subscribers", list}};
  }

  // Asked here, done by the runner at its next member listing (engine_give.cpp, move_node):
  // what can be refused now is refused now; `cluster` shows placement.move after.
  json move(const json& req) {
    if (!m_.placement || !m_.placements || m_.standby)
      throw admin_error(
          "only the active process of a placed engine ([cluster] members > 1) moves nodes");
    const auto& n = m_.graph->nodes[node_arg(req)];
    if (n.is_stream())
      throw admin_error(n.name() + " is a stream: the active process ingests and publishes it");
    const auto it = req.find("to");
    if (it == req.end() || !it->is_string() || it->get<std::string>().empty())
      throw admin_error("missing \"to\": the placed process to move it to (`cluster`: members)");
    const std::string to = it->get<std::string>();
    const auto& members = m_.placement->members;
    if (std::find(members.begin(), members.end(), to) == members.end())
      throw admin_error("\"" + escaped(to, 64) + "\" is not a placed process: they are " +
                        json(members).dump());
    if (to == m_.instance)
      throw admin_error(
          "the active process takes no node by a move (it takes nodes only when no standby "
          "can): move it to a placed standby");
    const auto at = m_.placement->nodes.find(n.id);
    if (at == m_.placement->nodes.end()) throw admin_error(n.name() + " is not placed");
    if (at->second == to) throw admin_error(n.name() + " is on " + to + " already");
    if (!m_.cfg.cluster.checkpoints)
      throw admin_error(
          "a move needs [cluster] checkpoints = true: without the checkpoint of the process it "
          "leaves, the one it moves to computes every node it has from the journal's start");
    if (m_.move_asked) throw admin_error("a move of " + m_.move_asked->name + " is asked already");
    if (const std::string why = m_.why_not_move(n.id); !why.empty())
      throw admin_error(n.name() + " does not move now: " + why);
    m_.move_asked = engine::impl::move_request{n.id, n.name(), to, false, ""};
    m_.move_state = {{"node", n.name()}, {"from", at->second}, {"to", to}, {"asked", true}};
    return m_.move_state;
  }

  std::size_t node_arg(const json& req) const {
    const auto it = req.find("node");
    if (it == req.end() || !it->is_string()) throw admin_error("missing \"node\": a node name");
    auto found = m_.graph->by_name.find(it->get<std::string>());
    if (found == m_.graph->by_name.end())
      throw admin_error("no node named \"" + it->get<std::string>() + "\"");
    return found->second;
  }

  const node_report& report_of(const std::vector<node_report>& rs, std::size_t i) const {
    for (const auto& r : rs)
      if (r.id == m_.graph->nodes[i].id) return r;
    throw admin_error("node has no report");
  }

  json graph() const {
    json nodes = json::array();
    for (const auto& n : m_.graph->nodes) {
      json inputs = json::array();
      for (const auto& in : n.inputs)
        inputs.push_back({{"port", in.port}, {"upstream", m_.graph->nodes[in.upstream].name()}});
      nodes.push_back({{"id", n.id},
                       {"kind", n.kind},
                       {"names", n.names},
                       {"pass", n.pass},
                       {"period", n.period},
                       {"interval_ns", n.interval_ns},
                       {"inputs", inputs}});
    }
    return {{"nodes", nodes},
            {"declared", m_.graph->declared},
            {"distinct", m_.graph->distinct},
            {"reused", m_.graph->reused()},
            {"reuse_ratio", m_.graph->reuse_ratio()}};
  }

  static bool flag(const json& req, const char* key) {
    const auto it = req.find(key);
    return it != req.end() && it->is_boolean() && it->get<bool>();
  }

  static json with_dry_run(json answer) {
    answer["dry_run"] = true;
    return answer;
  }

  // A submitted strategy: inline TOML ("text"), or a regular file of at most 1 MiB under the
  // main config's directory ("file", relative), never any other path.
  std::string strategy_text(const json& req) const {
    constexpr std::uintmax_t max_bytes = 1 << 20;
    if (const auto t = req.find("text"); t != req.end()) {
      if (!t->is_string()) throw admin_error("\"text\" must be the strategy's TOML as a string");
      if (t->get<std::string>().size() > max_bytes) throw admin_error("strategy text over 1 MiB");
      return t->get<std::string>();
    }
    const auto f = req.find("file");
    if (f == req.end() || !f->is_string())
      throw admin_error(
          "missing \"text\" (the strategy's TOML) or \"file\" (a path relative "
          "to the config's directory)");
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(fs::absolute(m_.base_cfg.path).parent_path(), ec);
    const fs::path rel(f->get<std::string>());
    if (rel.empty() || rel.is_absolute())
      throw admin_error("\"file\" must be a path relative to the config's directory " +
                        base.string());
    const fs::path full = fs::weakly_canonical(base / rel, ec);
    const auto [a, b] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
    if (ec || a != base.end())
      throw admin_error("\"file\" must stay under the config's directory " + base.string());
    const auto status = fs::status(full, ec);
    if (ec || !fs::exists(status)) throw admin_error(full.string() + ": no such file");
    if (!fs::is_regular_file(status)) throw admin_error(full.string() + ": not a regular file");
    if (fs::file_size(full, ec) > max_bytes) throw admin_error(full.string() + ": over 1 MiB");
    std::ifstream in(full, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  json nodes() const {
    json out = json::array();
    for (const auto& r : m_.node_reports())
      out.push_back({{"name", r.names.front()},
                     {"id", r.id},
                     {"kind", r.kind},
                     {"state", to_string(r.state)},
                     {"events_in", r.events_in},
                     {"outputs", r.outputs},
                     {"late_dropped", r.late_dropped},
                     {"rejected", r.rejected}});
    return {{"nodes", out}};
  }

  json inspect(std::size_t i) const {
    const plan_node& n = m_.graph->nodes[i];
    const auto rs = m_.node_reports();
    const node_report& r = report_of(rs, i);
    json inputs = json::array();
    for (const auto& in : n.inputs)
      inputs.push_back({{"port", in.port}, {"upstream", m_.graph->nodes[in.upstream].name()}});
    json last = nullptr;
    if (r.last_value)
      last = {{"seq", r.last_seq}, {"bucket", r.last_bucket}, {"value", to_json(*r.last_value)}};
    return {{"id", n.id},
            {"kind", n.kind},
            {"kind_version", n.kind_version},
            {"params", to_json(Value(n.params))},
            {"inputs", inputs},
            {"names", n.names},
            {"state", to_string(r.state)},
            {"reason", r.reason},
            {"counters",
             {{"events_in", r.events_in},
              {"outputs", r.outputs},
              {"late_dropped", r.late_dropped},
              {"missing", r.missing},
              {"rejected", r.rejected},
              {"duplicates", r.duplicates},
              {"gaps", r.gaps},
              {"held", r.held},
              {"held_overflow", r.held_overflow}}},
            {"notes", r.notes},
            {"last_output", last},
            {"mailbox", r.mailbox},
            {"window_bytes", r.window_bytes}};
  }

  // Provenance of a stored output (runtime/provenance/explain.hpp), from the engine's own store
  // with what the writer holds committed first. The recomputation replays a short stretch of
  // journal inline; it is skipped (with the reason) where it would hold the admin socket long:
  // a kind whose state depends on all history, or a journal with runtime strategy changes.
  json explain(const json& req) const {
    std::shared_ptr<const plan> g;
    config cfg;
    std::size_t i = 0;
    {
      std::lock_guard lock(m_.graph_mu);
      i = node_arg(req);
      g = m_.graph;
      cfg = m_.cfg;
    }
    if (!m_.db || !m_.writer) throw admin_error("no data dir: nothing is stored to explain");
    const auto b = req.find("bucket");
    if (b == req.end() || !b->is_number_integer())
      throw admin_error("missing \"bucket\": the output's bucket (ns since the epoch)");
    const std::int64_t bucket = b->get<std::int64_t>();
    if (bucket < INT64_MIN / 2 || bucket > INT64_MAX / 2)
      throw admin_error("bucket " + std::to_string(bucket) + " is no event time a store can hold");
    // Three levels by default (a node, its inputs, theirs): a walk of every level of a deep
    // graph reads period^depth outputs, and the admin socket waits for it.
    int depth = 3;
    if (const auto d = req.find("depth"); d != req.end()) {
      if (!d->is_number_integer() || d->get<int>() < 0)
        throw admin_error("\"depth\" must be a whole number of levels");
      depth = d->get<int>();
    }
    m_.writer->flush();
    std::string skip;
    if (!history_ns(*g, i))
      skip = "its state depends on all history: `shoal explain DIR " + g->nodes[i].name() +
             " --bucket " + std::to_string(bucket) + "` recomputes it from the whole journal";
    else if (m_.db->journal_has_controls())
      skip =
          "the journal holds runtime strategy changes: `shoal explain DIR` recomputes through "
          "the recorded config";
    json j = explain_output(*m_.db, cfg, *g, i, bucket, depth, skip);
    if (!j["stored"].get<bool>())
      throw admin_error(g->nodes[i].name() + " has no stored output at bucket " +
                        std::to_string(bucket));
    return j;
  }

  // What the store holds (committed; a console polls this, so it never forces a commit), read
  // and decoded outside graph_mu: checkpoints and changes go on meanwhile.
  json outputs(const json& req) const {
    std::string id;
    {
      std::lock_guard lock(m_.graph_mu);
      id = m_.graph->nodes[node_arg(req)].id;
    }
    if (!m_.db) throw admin_error("no data dir: no stored outputs");
    std::int64_t n = 100;
    if (const auto it = req.find("n"); it != req.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1000)
        throw admin_error("\"n\": an integer from 1 to 1000");
      n = it->get<std::int64_t>();
    }
    const std::string name = req["node"].get<std::string>();
    json out = json::array();
    for (const auto& bytes : m_.db->last_outputs(id, static_cast<std::size_t>(n))) {
      Output o = decode_output(bytes, stored_data_limits());
      o.node = name;  // as published under this name
      out.push_back(to_json(o));
    }
    return {{"node", name}, {"outputs", out}};
  }

  json window(std::size_t i) const {
    std::string bytes;
    ask(i, [&](caf::scoped_actor& self, const caf::actor& a) {
      self->request(a, std::chrono::seconds(5), window_atom::value)
          .receive([&](std::string& b) { bytes = std::move(b); },
                   [&](caf::error& e) { throw admin_error("window: " + m_.sys->render(e)); });
    });
    Value w = from_msgpack(bytes, stored_data_limits());
    const plan_node& n = m_.graph->nodes[i];
    json ports = json::array();
    const auto& saved = w.find("ports")->as_list();
    for (std::size_t p = 0; p < saved.size(); ++p) {
      json slots = json::array();
      for (const auto& s : saved[p].find("ring")->as_list())
        slots.push_back({{"t", s.as_list()[0].as_int()}, {"v", to_json(s.as_list()[1])}});
      ports.push_back(
          {{"input", n.is_stream() ? "in" : n.inputs[p].port},
           {"upstream", n.is_stream() ? n.name() : m_.graph->nodes[n.inputs[p].upstream].name()},
           {"slots", slots}});
    }
    return {{"node", n.name()},
            {"interval_ns", n.interval_ns},
            {"period", n.period},
            {"inputs", ports}};
  }

  json pause(const json& req, bool pause) {
    std::vector<std::size_t> targets;
    if (req.contains("node")) {
      const std::size_t i = node_arg(req);
      if (!m_.computes(i))  // it is fed nothing here: pausing it would hold nothing
        throw admin_error("node " + m_.graph->nodes[i].name() + " runs on process " +
                          m_.placement->nodes.at(m_.graph->nodes[i].id) +
                          " ([cluster] members): pause it there");
      targets.push_back(i);
    } else {
      for (std::size_t i = 0; i < m_.graph->nodes.size(); ++i)
        if (m_.computes(i)) targets.push_back(i);
    }
    // Marked before asking: a request that times out may still pause its node later, and a
    // checkpoint must never run while any node might hold inputs.
    if (pause) m_.any_paused = true;
    json names = json::array();
    for (std::size_t i : targets) {
      ask(i, [&](caf::scoped_actor& self, const caf::actor& a) {
        self->request(a, std::chrono::seconds(5), pause_atom::value, pause)
            .receive([](bool) {}, [&](caf::error& e) { throw admin_error(m_.sys->render(e)); });
      });
      names.push_back(m_.graph->nodes[i].name());
    }
    bool any = false;
    for (const auto& r : m_.board->snapshot()) any |= r.paused;
    m_.any_paused = any;
    return {{pause ? "paused" : "resumed", names}};
  }

  json strategies() const {
    std::map<std::string, std::vector<std::string>> by;
    for (const auto& n : m_.graph->nodes)
      for (const auto& name : n.names) {
        const auto dot = name.find('.');
        for (const auto& s : n.strategies)
          if (!s.empty() && dot != std::string::npos && name.substr(0, dot) == s)
            by[s].push_back(name);
      }
    json out = json::array();
    for (const auto& [s, names] : by) out.push_back({{"strategy", s}, {"nodes", names}});
    return {{"strategies", out}};
  }

  // The config files as loaded, and the strategy changes made since (what runs is both).
  json config_files() const {
    json submitted = json::object(), removed = json::array();
    for (const auto& [name, text] : m_.rt.submitted) submitted[name] = text;
    for (const auto& name : m_.rt.removed) removed.push_back(name);
    json runtime = {{"submitted", submitted}, {"removed", removed}};
    if (m_.opt.config_text.empty())
      return {
          {"files", json::object()}, {"runtime", runtime}, {"graph_hash", m_.graph->graph_hash}};
    Value v = from_msgpack(m_.opt.config_text);
    json files = json::object();
    for (const auto& [path, text] : v.find("files")->as_map()) files[path] = text.as_string();
    return {{"main", v.find("main")->as_string()},
            {"files", files},
            {"runtime", runtime},
            {"graph_hash", m_.graph->graph_hash}};
  }

  json log_level(const json& req) const {
    const auto it = req.find("level");
    if (it == req.end() || !it->is_string()) throw admin_error("missing \"level\"");
    const std::string level = it->get<std::string>();
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(level))
      throw admin_error("level must be trace, debug, info, warn, error or off");
    spdlog::set_level(spdlog::level::from_str(level));
    return {{"level", level}};
  }

  template <class F>
  void ask(std::size_t i, F&& f) const {
    if (!m_.sys || i >= m_.node_actors.size()) throw admin_error("the engine is not running");
    caf::scoped_actor self{*m_.sys};
    f(self, m_.node_actors[i]);
  }

  engine::impl& m_;
};

}  // namespace

std::shared_ptr<admin_backend> make_engine_admin(engine::impl& m) {
  return std::make_shared<engine_admin>(m);
}

}  // namespace shoal
