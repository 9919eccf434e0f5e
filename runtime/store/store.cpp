#include "runtime/store/store.hpp"

#include <lmdb.h>

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "messages/decode_error.hpp"
#include "messages/hex.hpp"
#include "runtime/store/lmdb_calls.hpp"

namespace shoal {
namespace {

using lmdb::check;
using lmdb::val;
using lmdb::view;

// A read-only transaction that always ends (abort) when it goes out of scope.
class read_txn {
 public:
  explicit read_txn(MDB_env* env) {
    check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_), "begin read");
  }
  ~read_txn() { mdb_txn_abort(txn_); }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

class cursor {
 public:
  cursor(MDB_txn* txn, MDB_dbi dbi) { check(mdb_cursor_open(txn, dbi, &c_), "open cursor"); }
  ~cursor() { mdb_cursor_close(c_); }
  bool get(MDB_val& k, MDB_val& v, MDB_cursor_op op) {
    int rc = mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "cursor get");
    return true;
  }

 private:
  MDB_cursor* c_ = nullptr;
};

std::string id_bytes(std::string_view hex) {
  try {
    return from_hex(hex);
  } catch (const std::invalid_argument& e) {
    throw store_error(std::string("bad NodeID: ") + e.what());
  }
}

// The address LMDB mapped data.mdb at, from /proc/self/maps: the mapping of that file whose
// length is the map size. Null when not found (then release_mapped_pages does nothing).
void* find_map_address(const std::string& dir, std::size_t map_size) {
  const std::string file = (std::filesystem::canonical(dir) / "data.mdb").string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < file.size() ||
        line.compare(line.size() - file.size(), file.size(), file) != 0)
      continue;
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && hi - lo == map_size)
      return reinterpret_cast<void*>(lo);
  }
  return nullptr;
}

}  // namespace

std::string u64_key(std::uint64_t v) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) k[i] = static_cast<char>(v & 0xff);
  return k;
}

std::uint64_t read_u64_key(std::string_view key) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < key.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

namespace {

// The bucket of an output key (NodeID bytes + the bucket, sign bit flipped, big-endian).
std::int64_t bucket_of_key(std::string_view key) {
  return static_cast<std::int64_t>(read_u64_key(key.substr(32)) ^ 0x8000000000000000ULL);
}

// The last bucket under a node's key prefix, read with c on the outputs db.
std::optional<std::int64_t> last_bucket_under(cursor& c, const std::string& prefix) {
  const std::string after = prefix + std::string(9, '\xff');
  MDB_val k = val(after), v;
  // The key after this node's last one (or the end), then one back.
  const bool past = c.get(k, v, MDB_SET_RANGE);
  if (!c.get(k, v, past ? MDB_PREV : MDB_LAST) || !view(k).starts_with(prefix)) return std::nullopt;
  return bucket_of_key(view(k));
}

}  // namespace

node_key::node_key(std::string_view id_hex) : bytes_(id_bytes(id_hex)) {}

std::string node_key::output_key(std::int64_t bucket) const {
  std::string k;
  k.reserve(bytes_.size() + 8);
  k += bytes_;
  k += u64_key(static_cast<std::uint64_t>(bucket) ^ 0x8000000000000000ULL);
  return k;
}

std::string output_key(std::string_view hex, std::int64_t bucket) {
  return node_key(hex).output_key(bucket);
}

bool store::exists(const std::string& dir) {
  return std::filesystem::exists(std::filesystem::path(dir) / "data.mdb");
}

store::store(const std::string& dir, bool create, store_sync sync) : dir_(dir), sync_(sync) {
  if (create) {
    // The data dir holds the config (and any admin token in it): private to its owner.
    if (std::filesystem::create_directories(dir))
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  } else if (!exists(dir)) {
    throw store_error(dir + ": no shoal data dir here (no data.mdb)");
  }
  check(mdb_env_create(&env_), "create environment");
  mdb_env_set_maxdbs(env_, 8);
  // Address space, not disk: LMDB's file grows as data is written.
  mdb_env_set_mapsize(env_, std::size_t{64} << 30);
  // NOTLS: read transactions are short and may run on any thread.
  // Readers (create = false: export, parity, a replay's source, clients) open the environment
  // read-only: they never write, and never need the data dir's writer lock.
  unsigned flags = MDB_NOTLS | (create ? 0u : static_cast<unsigned>(MDB_RDONLY));
  if (create && !syncs_each_commit()) flags |= MDB_NOSYNC;
  int rc = mdb_env_open(env_, dir.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env_);
    env_ = nullptr;
    throw store_error(dir + ": cannot open LMDB environment: " + mdb_strerror(rc));
  }
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, create ? 0 : MDB_RDONLY, &txn), "begin");
  auto open = [&](const char* name, unsigned& dbi) {
    int r = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, &dbi);
    if (r != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      throw store_error(dir + ": cannot open database " + name + ": " + mdb_strerror(r));
    }
  };
  open("journal", journal_);
  open("outputs", outputs_);
  open("state", state_);
  open("meta", meta_);
  // Build mode's databases: a dir no build has touched lacks them (read-only: left at 0).
  for (auto [name, dbi] : {std::pair{"ledger", &ledger_}, std::pair{"retired", &retired_}}) {
    const int r = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, dbi);
    if (r == MDB_NOTFOUND && !create) continue;
    if (r != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      throw store_error(dir + ": cannot open database " + name + ": " + mdb_strerror(r));
    }
  }
  check(mdb_txn_commit(txn), "commit");
  MDB_envinfo info;
  if (mdb_env_info(env_, &info) == MDB_SUCCESS) map_addr_ = find_map_address(dir, info.me_mapsize);
}

store::~store() {
  if (env_) mdb_env_close(env_);
}

void store::sync() { check(mdb_env_sync(env_, 1), "sync"); }

void store::start_writeback() const {
  if (syncs_each_commit()) return;
  int fd = -1;
  if (mdb_env_get_fd(env_, &fd) == MDB_SUCCESS)
    ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // a hint: sync() still decides
}

void store::release_mapped_pages() const {
  MDB_envinfo info;
  MDB_stat st;
  if (!map_addr_ || mdb_env_info(env_, &info) != MDB_SUCCESS ||
      mdb_env_stat(env_, &st) != MDB_SUCCESS)
    return;
  const std::size_t used = (info.me_last_pgno + 1) * static_cast<std::size_t>(st.ms_psize);
  madvise(map_addr_, used, MADV_DONTNEED);
}

std::uint64_t store::journal_last() const {
  read_txn txn(env_);
  cursor c(txn.get(), journal_);
  MDB_val k, v;
  return c.get(k, v, MDB_LAST) ? read_u64_key(view(k)) : 0;
}

std::uint64_t store::journal_count() const {
  read_txn txn(env_);
  MDB_stat st;
  check(mdb_stat(txn.get(), journal_, &st), "stat");
  return st.ms_entries;
}

std::uint64_t store::output_count() const {
  read_txn txn(env_);
  MDB_stat st;
  check(mdb_stat(txn.get(), outputs_, &st), "stat");
  return st.ms_entries;
}

std::size_t store::read_journal(
    std::uint64_t after, std::size_t limit,
    const std::function<void(std::uint64_t, std::string_view)>& f) const {
  read_txn txn(env_);
  cursor c(txn.get(), journal_);
  const std::string start = u64_key(after + 1);
  MDB_val k = val(start), v;
  std::size_t n = 0;
  for (bool ok = c.get(k, v, MDB_SET_RANGE); ok && n < limit; ok = c.get(k, v, MDB_NEXT), ++n)
    f(read_u64_key(view(k)), view(v));
  return n;
}

std::optional<std::string> store::journal_bytes(std::uint64_t seq) const {
  std::optional<std::string> bytes;
  if (seq == 0) return bytes;
  read_journal(seq - 1, 1, [&](std::uint64_t at, std::string_view b) {
    if (at == seq) bytes = std::string(b);
  });
  return bytes;
}

std::vector<journal_record> store::read_records(std::uint64_t* pos, std::size_t limit) const {
  std::vector<journal_record> batch;
  read_journal(*pos, limit, [&](std::uint64_t seq, std::string_view bytes) {
    try {
      batch.push_back(decode_journal_record(bytes));
    } catch (const decode_error& e) {
      // Which record, of which dir: the bytes alone do not tell an operator where to look.
      throw decode_error(
          e.kind(), "",
          "journal record " + std::to_string(seq) + " of " + dir_ + " is damaged: " + e.what());
    }
    *pos = seq;
  });
  return batch;
}

bool store::any_journal_record(const std::function<bool(std::string_view)>& match) const {
  bool found = false;
  for (std::uint64_t pos = 0; !found;) {
    const std::size_t n = read_journal(pos, 65536, [&](std::uint64_t seq, std::string_view bytes) {
      found = found || match(bytes);
      pos = seq;
    });
    release_mapped_pages();  // a scan of the whole journal must not grow RSS by its size
    if (n == 0) break;
  }
  return found;
}

bool store::journal_has_controls() const {
  if (const auto marked = get_meta(controls_meta)) return *marked != "0";
  return any_journal_record([](std::string_view bytes) { return is_control_record(bytes); });
}

bool store::journal_has_graph_changes() const {
  if (!journal_has_controls()) return false;
  return any_journal_record([](std::string_view bytes) {
    if (!is_control_record(bytes)) return false;
    const journal_record r = decode_journal_record(bytes);
    const auto* c = std::get_if<Control>(&r);
    return c && (c->kind == "submit" || c->kind == "remove");
  });
}

void store::read_journal_backwards(
    const std::function<bool(std::uint64_t, std::string_view)>& f) const {
  read_txn txn(env_);
  cursor c(txn.get(), journal_);
  MDB_val k, v;
  for (bool ok = c.get(k, v, MDB_LAST); ok; ok = c.get(k, v, MDB_PREV))
    if (!f(read_u64_key(view(k)), view(v))) return;
}

void store::for_each_output(
    const std::function<void(std::string_view, std::int64_t, std::string_view)>& f) const {
  std::string last;  // resume point between batches, so no read transaction stays open long
  bool first = true;
  for (;;) {
    read_txn txn(env_);
    cursor c(txn.get(), outputs_);
    MDB_val k, v;
    bool ok;
    if (first) {
      ok = c.get(k, v, MDB_FIRST);
    } else {
      k = val(last);
      ok = c.get(k, v, MDB_SET_RANGE);
      if (ok && view(k) == last) ok = c.get(k, v, MDB_NEXT);
    }
    first = false;
    std::size_t n = 0;
    for (; ok && n < 4096; ok = c.get(k, v, MDB_NEXT), ++n) {
      auto key = view(k);
      if (key.size() != 40) throw store_error("outputs: malformed key");
      const auto bucket = bucket_of_key(key);
      f(to_hex(key.substr(0, 32)), bucket, view(v));
      last.assign(key);
    }
    if (!ok) return;
  }
}

void store::for_each_output_of(std::string_view hex, std::int64_t after, std::int64_t through,
                               const std::function<void(std::int64_t, std::string_view)>& f) const {
  for_each_in(outputs_, hex, after, through, f);
}

std::vector<std::pair<std::int64_t, std::string>> store::outputs_of(std::string_view hex,
                                                                    std::int64_t after,
                                                                    std::size_t limit) const {
  std::vector<std::pair<std::int64_t, std::string>> out;
  if (after == INT64_MAX || limit == 0) return out;
  std::string first = output_key(hex, after + 1);
  const std::string last = output_key(hex, INT64_MAX);
  read_txn txn(env_);
  cursor c(txn.get(), outputs_);
  MDB_val k = val(first), v;
  for (bool ok = c.get(k, v, MDB_SET_RANGE); ok && out.size() < limit; ok = c.get(k, v, MDB_NEXT)) {
    const auto key = view(k);
    if (key > std::string_view(last)) break;
    out.emplace_back(bucket_of_key(key), std::string(view(v)));
  }
  return out;
}

void store::for_each_retired_output_of(
    std::string_view hex, std::int64_t after, std::int64_t through,
    const std::function<void(std::int64_t, std::string_view)>& f) const {
  if (retired_) for_each_in(retired_, hex, after, through, f);
}

std::vector<std::string> store::output_ids() const {
  std::vector<std::string> ids;
  read_txn txn(env_);
  cursor c(txn.get(), outputs_);
  MDB_val k, v;
  // One seek per NodeID: past the last possible key of the one just found.
  for (bool ok = c.get(k, v, MDB_FIRST); ok;) {
    const auto key = view(k);
    if (key.size() < 32) break;
    ids.push_back(to_hex(key.substr(0, 32)));
    std::string next = std::string(key.substr(0, 32)) + std::string(9, '\xff');
    k = val(next);
    ok = c.get(k, v, MDB_SET_RANGE);
  }
  return ids;
}

std::optional<std::pair<std::int64_t, std::int64_t>> store::output_range(
    std::string_view hex) const {
  const std::string prefix = output_key(hex, INT64_MIN).substr(0, 32);
  read_txn txn(env_);
  cursor c(txn.get(), outputs_);
  MDB_val k = val(prefix), v;
  if (!c.get(k, v, MDB_SET_RANGE) || !view(k).starts_with(prefix)) return std::nullopt;
  const std::int64_t lo = bucket_of_key(view(k));
  const auto hi = last_bucket_under(c, prefix);
  if (!hi) return std::nullopt;
  return std::pair{lo, *hi};
}

store::output_ends_read store::output_ends(const std::set<std::string>& ids_hex) const {
  output_ends_read out;
  read_txn txn(env_);
  {
    cursor c(txn.get(), journal_);
    MDB_val k, v;
    out.journal_last = c.get(k, v, MDB_LAST) ? read_u64_key(view(k)) : 0;
  }
  cursor c(txn.get(), outputs_);
  for (const auto& hex : ids_hex)
    if (const auto last = last_bucket_under(c, output_key(hex, INT64_MIN).substr(0, 32)))
      out.last_bucket.emplace(hex, *last);
  return out;
}

std::map<std::string, std::string> store::retired_states() const {
  std::map<std::string, std::string> out;
  if (!ledger_) return out;
  read_txn txn(env_);
  cursor c(txn.get(), ledger_);
  MDB_val k, v;
  for (bool ok = c.get(k, v, MDB_FIRST); ok; ok = c.get(k, v, MDB_NEXT))
    if (view(k).size() == 32) out.emplace(to_hex(view(k)), std::string(view(v)));
  return out;
}

void store::for_each_ledger(
    const std::function<void(std::string_view, std::int64_t, std::string_view)>& f) const {
  if (!ledger_) return;
  read_txn txn(env_);
  cursor c(txn.get(), ledger_);
  MDB_val k, v;
  for (bool ok = c.get(k, v, MDB_FIRST); ok; ok = c.get(k, v, MDB_NEXT)) {
    const auto key = view(k);
    if (key.size() != 40) continue;
    f(to_hex(key.substr(0, 32)), bucket_of_key(key), view(v));
  }
}

void store::for_each_in(unsigned dbi, std::string_view hex, std::int64_t after,
                        std::int64_t through,
                        const std::function<void(std::int64_t, std::string_view)>& f) const {
  if (after == INT64_MAX || after >= through) return;
  std::string next = output_key(hex, after + 1);
  const std::string last = output_key(hex, through);
  for (bool more = true; more;) {
    read_txn txn(env_);
    cursor c(txn.get(), dbi);
    MDB_val k = val(next), v;
    std::size_t n = 0;
    more = false;
    for (bool ok = c.get(k, v, MDB_SET_RANGE); ok; ok = c.get(k, v, MDB_NEXT)) {
      const auto key = view(k);
      if (key > std::string_view(last)) break;
      if (++n > 4096) {  // resume in a new transaction
        next.assign(key);
        more = true;
        break;
      }
      f(bucket_of_key(key), view(v));
    }
  }
}

std::vector<std::string> store::last_outputs(std::string_view hex, std::size_t n) const {
  std::vector<std::string> out;
  if (n == 0) return out;
  const std::string prefix = id_bytes(hex);
  // Past every key of this node: 8 bytes of 0xff are the key of bucket INT64_MAX itself.
  const std::string after = prefix + std::string(9, '\xff');
  read_txn txn(env_);
  cursor c(txn.get(), outputs_);
  MDB_val k = val(after), v;
  // Position on the last key of this node: the first key past it, then one step back.
  bool ok = c.get(k, v, MDB_SET_RANGE) ? c.get(k, v, MDB_PREV) : c.get(k, v, MDB_LAST);
  for (; ok && out.size() < n; ok = c.get(k, v, MDB_PREV)) {
    if (view(k).substr(0, prefix.size()) != prefix) break;
    out.emplace_back(view(v));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<std::string> store::get_meta(const std::string& key) const {
  read_txn txn(env_);
  MDB_val k = val(key), v;
  int rc = mdb_get(txn.get(), meta_, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "get meta");
  return std::string(view(v));
}

std::map<std::string, std::string> store::all_state() const {
  std::map<std::string, std::string> out;
  read_txn txn(env_);
  cursor c(txn.get(), state_);
  MDB_val k, v;
  for (bool ok = c.get(k, v, MDB_FIRST); ok; ok = c.get(k, v, MDB_NEXT))
    out.emplace(to_hex(view(k)), std::string(view(v)));
  return out;
}

}  // namespace shoal
