#include "runtime/cluster/jetstream_link.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/transport/private_file.hpp"

namespace shoal {

namespace {

std::string status_text(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && text.find(last) == std::string::npos) text += std::string(": ") + last;
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return text;
}

void check(natsStatus s, const std::string& what, jsErrCode code = static_cast<jsErrCode>(0)) {
  if (s != NATS_OK) throw cluster_error(what + ": " + status_text(s, code));
}

std::string header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? std::string(v) : std::string();
}

// While the cluster elects a leader (the meta leader for a new consumer or stream, the
// stream's leader for a read) its API times out or answers "temporarily unavailable": try
// again, for up to 30 s, before calling it an error.
bool transient(natsStatus s, jsErrCode code) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || code == JSClusterNotAvailErr ||
         code == JSClusterNotLeaderErr || code == JSStreamOfflineErr;
}

template <class Call>
natsStatus with_retries(jsErrCode& code, Call call) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    code = static_cast<jsErrCode>(0);
    const natsStatus s = call();
    if (s == NATS_OK || !transient(s, code) || std::chrono::steady_clock::now() >= until) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// TLS and credentials (cluster_security). A secret file open to others is refused before it is
// read; nats.c reports a bad certificate or key here, at load, not at connect.
void apply_security(natsOptions* opts, const cluster_decl& c) {
  const cluster_security& sec = c.security;
  auto private_file = [](const std::string& path, const char* noun) {
    try {
      require_private_file(path, noun);
    } catch (const std::runtime_error& e) {
      throw cluster_error(e.what());
    }
  };
  if (c.tls()) {
    check(natsOptions_SetSecure(opts, true), "TLS");
    if (!sec.ca_file.empty())
      check(natsOptions_LoadCATrustedCertificates(opts, sec.ca_file.c_str()),
            "cluster.tls.ca_file " + sec.ca_file);
    if (!sec.cert_file.empty()) {
      private_file(sec.key_file, "TLS private key file");
      check(natsOptions_LoadCertificatesChain(opts, sec.cert_file.c_str(), sec.key_file.c_str()),
            "cluster.tls.cert_file " + sec.cert_file + " with key_file " + sec.key_file);
    }
  }
  if (!sec.credentials_file.empty()) {
    private_file(sec.credentials_file, "NATS credentials file");
    check(natsOptions_SetUserCredentialsFromFiles(opts, sec.credentials_file.c_str(), nullptr),
          "cluster.credentials_file " + sec.credentials_file);
  }
  if (!sec.user.empty()) {
    if (!c.tls())
      spdlog::warn(
          "cluster: user {}'s password goes to the NATS servers in the clear: use tls:// URLs",
          sec.user);
    std::string password;
    try {
      password = read_private_line(sec.password_file, "password file");
    } catch (const std::runtime_error& e) {
      throw cluster_error(e.what());
    }
    check(natsOptions_SetUserInfo(opts, sec.user.c_str(), password.c_str()), "cluster.user");
  }
}

// Whether this process has not said `key` yet (and now has): the replicator, the exporter and a
// standby's follower each make sure of the stream, and one line about it is enough.
bool first_time_said(const std::string& key) {
  static std::mutex mu;
  static std::set<std::string> said;
  std::lock_guard lock(mu);
  return said.insert(key).second;
}

}  // namespace

struct jetstream_link::impl {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::atomic<std::uint64_t> reconnects{0};
  std::int64_t wait_ms = 5000;
  // Acknowledgements of the publish in progress (the handler runs on a library thread).
  std::mutex mu;
  std::size_t acked = 0, duplicates = 0;
  std::uint64_t stream_seq = 0;
  std::string first_error;

  static void on_reconnected(natsConnection*, void* closure) {
    static_cast<impl*>(closure)->reconnects.fetch_add(1);
  }
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<impl*>(closure);
    {
      std::lock_guard lock(self->mu);
      if (pa) {
        ++self->acked;
        if (pa->Duplicate) ++self->duplicates;
        self->stream_seq = std::max(self->stream_seq, pa->Sequence);
      } else if (pae && self->first_error.empty()) {
        self->first_error =
            "message " + header(msg, "Nats-Msg-Id") + ": " +
            (pae->ErrText ? std::string(pae->ErrText) : status_text(pae->Err, pae->ErrCode));
      }
    }
    natsMsg_Destroy(msg);
  }

  std::map<std::string, kvStore*> buckets;

  kvStore* bucket(const std::string& name) {
    auto it = buckets.find(name);
    if (it != buckets.end()) return it->second;
    kvStore* kv = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = with_retries(code, [&] { return js_KeyValue(&kv, js, name.c_str()); });
    if (s == NATS_NOT_FOUND) throw cluster_missing("key-value bucket " + name + " does not exist");
    check(s, "key-value bucket " + name);
    return buckets[name] = kv;
  }

  ~impl() {
    for (auto& [_, kv] : buckets) kvStore_Destroy(kv);
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
    if (opts) natsOptions_Destroy(opts);
  }
};

jetstream_link::jetstream_link(const cluster_decl& c, const std::string& name, std::int64_t wait_ms)
    : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.wait_ms = wait_ms;
  const auto& servers = c.servers;
  check(natsOptions_Create(&m.opts), "nats options");
  std::vector<const char*> urls;
  for (const auto& s : servers) urls.push_back(s.c_str());
  check(natsOptions_SetServers(m.opts, urls.data(), static_cast<int>(urls.size())), "nats servers");
  check(natsOptions_SetName(m.opts, name.c_str()), "nats name");
  // Once connected, reconnect for as long as it takes: the journal waits in the data dir.
  check(natsOptions_SetMaxReconnect(m.opts, -1), "nats reconnect");
  check(natsOptions_SetReconnectWait(m.opts, 250), "nats reconnect wait");
  check(natsOptions_SetTimeout(m.opts, 2000), "nats connect timeout");
  // A dead server is noticed within about 2 s rather than the default 4 min.
  check(natsOptions_SetPingInterval(m.opts, 1000), "nats ping interval");
  check(natsOptions_SetMaxPingsOut(m.opts, 2), "nats pings out");
  check(natsOptions_SetReconnectedCB(m.opts, &impl::on_reconnected, &m), "nats callback");
  apply_security(m.opts, c);
  std::string list;
  for (const auto& s : servers) list += (list.empty() ? "" : ", ") + s;
  const natsStatus s = natsConnection_Connect(&m.nc, m.opts);
  if (s != NATS_OK) {
    // A server that verifies clients closes a TLS connection without a certificate right after
    // the handshake; nats.c then reports only an unexpected end of its protocol.
    const std::string hint = s == NATS_PROTOCOL_ERROR && c.tls() && c.security.cert_file.empty()
                                 ? " (servers that verify clients need [cluster] tls.cert_file and "
                                   "tls.key_file)"
                                 : "";
    throw cluster_error("cannot connect to the NATS cluster (" + list + "): " + status_text(s) +
                        hint);
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = wait_ms;
  jo.PublishAsync.MaxPending = 4096;
  jo.PublishAsync.AckHandler = &impl::on_ack;
  jo.PublishAsync.AckHandlerClosure = &m;
  check(natsConnection_JetStream(&m.js, m.nc, &jo), "JetStream context");
}

jetstream_link::~jetstream_link() = default;

void jetstream_link::close() { natsConnection_Close(impl_->nc); }

void jetstream_link::ensure_stream(const cluster_decl& c) {
  auto& m = *impl_;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = with_retries(
      code, [&] { return js_GetStreamInfo(&si, m.js, c.stream.c_str(), nullptr, &code); });
  if (s == NATS_OK) {
    // One made before direct gets were asked for is left as it is: an update sends the whole
    // config as this client knows it, and would reset what a newer server added (an operator
    // allows them with `nats stream edit STREAM --allow-direct`).
    if (!si->Config->AllowDirect && first_time_said(c.stream))
      spdlog::info(
          "cluster: stream {} does not allow direct gets: `shoal tail --from-stream "
          "--since` (or `--from`, and a cluster_node source's `from`) reads its subjects from the "
          "start (`nats stream edit {} "
          "--allow-direct` lets it seek)",
          c.stream, c.stream);
    jsStreamInfo_Destroy(si);
    return;
  }
  if (s != NATS_NOT_FOUND) check(s, "stream " + c.stream, code);
  const std::string subjects = c.subjects + ".>";
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = c.stream.c_str();
  cfg.Subjects = subject_list;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = c.replicas;
  cfg.Duplicates = c.duplicate_window_ns;
  cfg.AllowDirect = true;
  s = with_retries(code, [&] { return js_AddStream(&si, m.js, &cfg, nullptr, &code); });
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return;
  }
  if (code == JSStreamNameExistErr) return;  // another engine made it meanwhile
  check(s, "creating stream " + c.stream + " on " + subjects, code);
}

std::optional<stored_message> jetstream_link::last_message(const std::string& stream,
                                                           const std::string& subject,
                                                           bool patient) {
  auto& m = *impl_;
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto get = [&] {
    return js_GetLastMsg(&msg, m.js, stream.c_str(), subject.c_str(), nullptr, &code);
  };
  const natsStatus s = patient ? with_retries(code, get) : get();
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return std::nullopt;
  check(s, "last message of " + subject + " in stream " + stream, code);
  stored_message out;
  out.stream_seq = natsMsg_GetSequence(msg);
  out.msg_id = header(msg, "Nats-Msg-Id");
  out.end = header(msg, "Shoal-End");
  out.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return out;
}

std::optional<stored_message> jetstream_link::next_message(const std::string& stream,
                                                           const std::string& subject,
                                                           std::uint64_t from, bool patient) {
  auto& m = *impl_;
  natsMsg* msg = nullptr;
  jsDirectGetMsgOptions o;
  jsDirectGetMsgOptions_Init(&o);
  o.Sequence = from;
  o.NextBySubject = subject.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  auto get = [&] { return js_DirectGetMsg(&msg, m.js, stream.c_str(), nullptr, &o); };
  const natsStatus s = patient ? with_retries(code, get) : get();
  if (s == NATS_NOT_FOUND) return std::nullopt;
  check(s,
        "message of " + subject + " from sequence " + std::to_string(from) + " in stream " + stream,
        code);
  stored_message out;
  out.stream_seq = natsMsg_GetSequence(msg);  // nats.c takes it from the reply's Nats-Sequence
  out.msg_id = header(msg, "Nats-Msg-Id");
  out.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return out;
}

jetstream_link::stream_state jetstream_link::stream_info(const std::string& stream, bool patient) {
  auto& m = *impl_;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto get = [&] { return js_GetStreamInfo(&si, m.js, stream.c_str(), nullptr, &code); };
  check(patient ? with_retries(code, get) : get(), "stream " + stream, code);
  stream_state out{si->State.FirstSeq, si->State.LastSeq, si->Config->AllowDirect};
  jsStreamInfo_Destroy(si);
  return out;
}

std::uint64_t jetstream_link::subject_count(const std::string& stream, const std::string& subject,
                                            bool patient) {
  auto& m = *impl_;
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = subject.c_str();
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto get = [&] { return js_GetStreamInfo(&si, m.js, stream.c_str(), &o, &code); };
  check(patient ? with_retries(code, get) : get(), "stream " + stream, code);
  std::uint64_t n = 0;
  if (const jsStreamStateSubjects* subjects = si->State.Subjects) {
    for (int i = 0; i < subjects->Count; ++i)
      if (subject == subjects->List[i].Subject) n += subjects->List[i].Msgs;
  }
  jsStreamInfo_Destroy(si);
  return n;
}

publish_result jetstream_link::publish(const std::string& subject,
                                       const std::vector<outgoing_message>& msgs,
                                       std::int64_t timeout_ms) {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    m.acked = m.duplicates = 0;
    m.stream_seq = 0;
    m.first_error.clear();
  }
  publish_result r;
  for (const auto& o : msgs) {
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, o.data.data(),
                                  static_cast<int>(o.data.size()));
    if (s == NATS_OK && !o.end.empty()) s = natsMsgHeader_Set(msg, "Shoal-End", o.end.c_str());
    if (s == NATS_OK) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MsgId = o.msg_id.c_str();
      if (!o.expect_last_id.empty()) po.ExpectLastMsgId = o.expect_last_id.c_str();
      s = js_PublishMsgAsync(m.js, &msg, &po);
    }
    natsMsg_Destroy(msg);  // no effect when the library took it
    if (s != NATS_OK) {
      r.error = "publishing " + o.msg_id + ": " + status_text(s);
      break;
    }
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = timeout_ms;
  if (js_PublishAsyncComplete(m.js, &wait) != NATS_OK) {
    // Acks still missing: drop them (a message the cluster did store is deduplicated when the
    // caller sends it again with the same id).
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, m.js) == NATS_OK) natsMsgList_Destroy(&pending);
    if (r.error.empty())
      r.error = "no acknowledgement within " + std::to_string(timeout_ms) + " ms";
  }
  std::lock_guard lock(m.mu);
  r.stored = m.acked;
  r.duplicates = m.duplicates;
  r.stream_seq = m.stream_seq;
  if (!m.first_error.empty()) r.error = m.first_error;
  return r;
}

namespace {

class ordered_reader final : public jetstream_link::reader {
 public:
  // subscribe(from): a new ordered consumer from stream sequence `from` on.
  ordered_reader(std::function<natsSubscription*(std::uint64_t)> subscribe, std::uint64_t from)
      : subscribe_(std::move(subscribe)), from_(from), sub_(subscribe_(from)) {}
  ~ordered_reader() override { close(); }
  std::optional<stored_message> next(std::int64_t timeout_ms) override {
    for (;;) {
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, sub_, timeout_ms);
      if (s == NATS_TIMEOUT) return std::nullopt;
      if (s == NATS_SLOW_CONSUMER) {
        // nats.c dropped messages it could not hold while the caller was busy: read again from
        // the first one not given.
        spdlog::info(
            "cluster: the stream came faster than it was read and the client dropped messages; "
            "reading again from stream sequence {}",
            from_);
        close();
        sub_ = subscribe_(from_);
        continue;
      }
      check(s, "reading the stream");
      std::unique_ptr<natsMsg, void (*)(natsMsg*)> guard(msg, natsMsg_Destroy);
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) continue;  // not a stream message
      stored_message out;
      out.stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
      if (out.stream_seq < from_) continue;  // given before the consumer started again
      from_ = out.stream_seq + 1;
      out.msg_id = header(msg, "Nats-Msg-Id");
      out.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
      return out;
    }
  }

 private:
  void close() {
    if (!sub_) return;
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }

  std::function<natsSubscription*(std::uint64_t)> subscribe_;
  std::uint64_t from_;  // the first stream sequence not given yet
  natsSubscription* sub_;
};

}  // namespace

std::unique_ptr<jetstream_link::reader> jetstream_link::open_reader(const std::string& stream,
                                                                    const std::string& subject,
                                                                    std::uint64_t from,
                                                                    int max_pending) {
  auto subscribe = [this, stream, subject, max_pending](std::uint64_t start) {
    auto& m = *impl_;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start;  // at least 1: open_reader and next() see to it
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(with_retries(
              code,
              [&] { return js_SubscribeSync(&sub, m.js, subject.c_str(), nullptr, &so, &code); }),
          "reading " + subject + " of stream " + stream, code);
    if (max_pending > 0) {
      check(natsSubscription_SetPendingLimits(sub, max_pending, -1),
            "limiting the messages held for " + subject);
    }
    return sub;
  };
  return std::make_unique<ordered_reader>(std::move(subscribe), std::max<std::uint64_t>(from, 1));
}

void jetstream_link::read(const std::string& stream, const std::string& subject, std::uint64_t from,
                          std::uint64_t through,
                          const std::function<void(const stored_message&)>& f,
                          std::int64_t timeout_ms, int max_pending) {
  if (through < from) return;
  auto r = open_reader(stream, subject, from, max_pending);
  for (;;) {
    auto m = r->next(timeout_ms);
    if (!m)
      throw cluster_error("reading " + subject + ": the stream delivered nothing for " +
                          std::to_string(timeout_ms) + " ms before sequence " +
                          std::to_string(through));
    f(*m);
    if (m->stream_seq >= through) return;
  }
}

void jetstream_link::ensure_kv(const std::string& bucket, std::int64_t ttl_ns,
                               std::int64_t replicas) {
  auto& m = *impl_;
  if (m.buckets.count(bucket)) return;
  kvStore* kv = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  auto check_ttl = [&](kvStore* store) {
    kvStatus* st = nullptr;
    if (kvStore_Status(&st, store) != NATS_OK) return;
    const std::int64_t ttl = kvStatus_TTL(st);
    kvStatus_Destroy(st);
    if (ttl != ttl_ns)
      throw cluster_error("key-value bucket " + bucket + " expires its keys after " +
                          std::to_string(ttl / 1'000'000) + " ms, this engine's heartbeat_ttl is " +
                          std::to_string(ttl_ns / 1'000'000) +
                          " ms: every engine on a stream needs the same heartbeat_ttl");
  };
  if (with_retries(code, [&] { return js_KeyValue(&kv, m.js, bucket.c_str()); }) == NATS_OK) {
    m.buckets[bucket] = kv;
    check_ttl(kv);
    return;
  }
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket.c_str();
  cfg.History = 1;
  cfg.TTL = ttl_ns;  // nanoseconds, as JetStream's MaxAge
  cfg.StorageType = js_FileStorage;
  cfg.Replicas = static_cast<int>(replicas);
  const natsStatus s = with_retries(code, [&] { return js_CreateKeyValue(&kv, m.js, &cfg); });
  if (s == NATS_OK) {
    m.buckets[bucket] = kv;
    return;
  }
  const std::string why = status_text(s, code);
  try {
    check_ttl(m.bucket(bucket));  // made by another engine meanwhile
  } catch (const cluster_error& e) {
    throw cluster_error("creating key-value bucket " + bucket + ": " + why + " (" + e.what() + ")");
  }
}

std::uint64_t jetstream_link::kv_create(const std::string& bucket, const std::string& key,
                                        const std::string& value) {
  std::string why;
  // A key that expires between the refused create and the read that finds it gone (a lease
  // running out just then) is tried again, not taken for an error.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::uint64_t rev = 0;
    const natsStatus s = kvStore_Create(&rev, impl_->bucket(bucket), key.c_str(), value.data(),
                                        static_cast<int>(value.size()));
    if (s == NATS_OK) return rev;
    why = status_text(s);
    if (kv_get(bucket, key)) return 0;  // it exists: held by someone
  }
  throw cluster_error("creating " + bucket + "/" + key + ": " + why);
}

std::uint64_t jetstream_link::kv_update(const std::string& bucket, const std::string& key,
                                        const std::string& value, std::uint64_t revision) {
  std::uint64_t rev = 0;
  const natsStatus s = kvStore_Update(&rev, impl_->bucket(bucket), key.c_str(), value.data(),
                                      static_cast<int>(value.size()), revision);
  if (s == NATS_OK) return rev;
  if (s == NATS_NO_RESPONDERS)
    throw cluster_not_taken("updating " + bucket + "/" + key + ": " + status_text(s));
  if (s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED)
    throw cluster_error("updating " + bucket + "/" + key + ": " + status_text(s));
  return 0;  // a write came first, or the key expired
}

std::uint64_t jetstream_link::kv_put(const std::string& bucket, const std::string& key,
                                     const std::string& value, bool patient) {
  std::uint64_t rev = 0;
  kvStore* kv = impl_->bucket(bucket);
  auto put = [&] {
    return kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  };
  jsErrCode code = static_cast<jsErrCode>(0);
  check(patient ? with_retries(code, put) : put(), "writing " + bucket + "/" + key);
  return rev;
}

std::vector<std::string> jetstream_link::kv_keys(const std::string& bucket,
                                                 const std::string& prefix) {
  // Not nats.c's kvStore_Keys: that is a watch of each key's last value, and a key written while
  // it gathers can come twice or not at all (both seen here under load: a renewing member listed
  // twice, or missed, which would have taken a live process for gone). The stream's state names
  // each subject that holds a message once, read by the server at one moment.
  impl_->bucket(bucket);  // cluster_missing when there is no such bucket
  const std::string head = "$KV." + bucket + ".";
  const std::string filter = head + ">";
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = filter.c_str();
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, impl_->js, ("KV_" + bucket).c_str(), &o, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr)
    throw cluster_missing("key-value bucket " + bucket + " does not exist");
  check(s, "listing the keys of " + bucket, code);
  if (si->State.Msgs > 0 && !si->State.Subjects) {
    // A server that does not know subjects_filter answers without them: every member would
    // look gone.
    jsStreamInfo_Destroy(si);
    throw cluster_error("listing the keys of " + bucket +
                        ": the server does not list a stream's subjects (nats-server 2.9 or "
                        "newer does)");
  }
  std::vector<std::string> keys;
  if (const jsStreamStateSubjects* subjects = si->State.Subjects) {
    for (int i = 0; i < subjects->Count; ++i) {
      const std::string_view subject(subjects->List[i].Subject);
      if (subject.substr(0, head.size()) != head) continue;
      const std::string_view key = subject.substr(head.size());
      if (key.substr(0, prefix.size()) == prefix) keys.emplace_back(key);
    }
  }
  jsStreamInfo_Destroy(si);
  // One answer names a subject once; a listing long enough to come in pages (one request each)
  // could see a subject move across a page's edge.
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::optional<jetstream_link::kv_entry> jetstream_link::kv_get(const std::string& bucket,
                                                               const std::string& key) {
  kvEntry* e = nullptr;
  const natsStatus s = kvStore_Get(&e, impl_->bucket(bucket), key.c_str());
  if (s == NATS_NOT_FOUND) return std::nullopt;
  check(s, "reading " + bucket + "/" + key);
  // Values are bytes (a checkpoint's chunks), not only text.
  kv_entry v;
  if (const int n = kvEntry_ValueLen(e); n > 0)
    v.value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(n));
  v.revision = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  return v;
}

void jetstream_link::kv_delete(const std::string& bucket, const std::string& key) {
  check(kvStore_Delete(impl_->bucket(bucket), key.c_str()), "deleting " + bucket + "/" + key);
}

void jetstream_link::kv_erase(const std::string& bucket, const std::string& key) {
  // A bucket is the stream KV_<bucket>, each key the subject $KV.<bucket>.<key>. (nats.c
  // 3.4.1's kvStore_PurgeDeletes, which would remove the markers kv_delete leaves, leaks the
  // entries it watched.)
  const std::string subject = "$KV." + bucket + "." + key;
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Subject = subject.c_str();
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_PurgeStream(impl_->js, ("KV_" + bucket).c_str(), &o, &err);
  check(s, "erasing " + bucket + "/" + key, err);
}

std::string jetstream_link::connected_url() const {
  char buf[256] = {0};
  if (natsConnection_GetConnectedUrl(impl_->nc, buf, sizeof buf) != NATS_OK) return {};
  return buf;
}

std::uint64_t jetstream_link::reconnects() const { return impl_->reconnects.load(); }

std::size_t jetstream_link::max_payload() const {
  const std::int64_t n = natsConnection_GetMaxPayload(impl_->nc);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace shoal
