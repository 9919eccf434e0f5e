#pragma once
// jetstream_link: one connection to a NATS JetStream cluster (nats.c), with what shoal needs of
// it: make sure the journal stream exists, read a subject's last message, publish a run of
// records pipelined (each with its message id and the id it must follow), and read a subject
// in stream order. No NATS types here: the engine and the CLI stay free of nats.h.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/graph/cluster_decl.hpp"

namespace shoal {

struct cluster_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A key-value bucket that does not exist (yet): nothing was ever written to it.
struct cluster_missing : cluster_error {
  using cluster_error::cluster_error;
};
// A write no server took (no responders: no stream listens on its subject now): nothing was
// stored, unlike a write whose answer did not come.
struct cluster_not_taken : cluster_error {
  using cluster_error::cluster_error;
};

// A message as stored in the stream.
struct stored_message {
  std::uint64_t stream_seq = 0;
  std::string msg_id;  // its Nats-Msg-Id header
  std::string data;
  std::string end;  // its Shoal-End header (outgoing_message::end), read by last_message only
};

// One record to publish: its message id, the id of the message that must be the stream's last
// one before it (empty: no expectation), its bytes, and (not empty) a Shoal-End header: a node's
// output sent below its subject's end names that end, for a reader of the subject's last message
// (output_exporter).
struct outgoing_message {
  std::string msg_id;
  std::string expect_last_id;
  std::string_view data;
  std::string end = {};
};

struct publish_result {
  std::size_t stored = 0;        // acknowledged (stored now or, a retry, stored before)
  std::size_t duplicates = 0;    // of those, acknowledged as duplicates of an earlier publish
  std::uint64_t stream_seq = 0;  // the highest stream sequence acknowledged
  std::string error;             // the first failure (empty: every message acknowledged)
};

class jetstream_link {
 public:
  // Connects to c.servers (trying every server, reconnecting forever once connected), over TLS
  // and with the credentials c.security names. `name` names the connection on the servers'
  // monitoring pages; `wait_ms` bounds each JetStream request (a membership renewal wants an
  // answer soon or none). Throws cluster_error when no server answers or a credential file is
  // missing, open to others, or refused.
  jetstream_link(const cluster_decl& c, const std::string& name, std::int64_t wait_ms = 5000);
  ~jetstream_link();
  // Closes the connection: a request in progress on another thread fails at once (a closed
  // connection is not retried) instead of waiting out a cluster that does not answer. The link
  // is of no further use.
  void close();
  jetstream_link(const jetstream_link&) = delete;
  jetstream_link& operator=(const jetstream_link&) = delete;

  // Creates the stream (subjects "<prefix>.>", file storage, the replicas and duplicate window
  // given, direct gets allowed) unless it exists (one made before, without direct gets, is said
  // and left as it is: next_message does not work on it). Throws cluster_error.
  void ensure_stream(const cluster_decl& c);
  // The last message stored on `subject`, or none. Throws cluster_error (not on "none").
  // Patient: tries again for up to 30 s while the cluster cannot answer yet (no leader); a probe
  // that will ask again soon anyway asks once.
  std::optional<stored_message> last_message(const std::string& stream, const std::string& subject,
                                             bool patient = true);
  // The first message on `subject` at stream sequence `from` or after, or none: a direct get,
  // which any server holding the stream answers (a follower may lack the newest messages). The
  // stream must allow direct gets, as ensure_stream makes it. Throws cluster_error. Patient: as
  // last_message.
  std::optional<stored_message> next_message(const std::string& stream, const std::string& subject,
                                             std::uint64_t from, bool patient = true);
  // The stream's first and last sequence, and whether it allows direct gets. Throws
  // cluster_error. Patient: as last_message.
  struct stream_state {
    std::uint64_t first_seq = 0, last_seq = 0;
    bool allow_direct = false;
  };
  stream_state stream_info(const std::string& stream, bool patient = true);
  // How many messages the stream holds on `subject` (no wildcard). Throws cluster_error.
  // Patient: as last_message.
  std::uint64_t subject_count(const std::string& stream, const std::string& subject,
                              bool patient = true);
  // Publishes the messages in order, pipelined, and waits up to timeout_ms for every ack.
  publish_result publish(const std::string& subject, const std::vector<outgoing_message>& msgs,
                         std::int64_t timeout_ms);
  // An ordered consumer on `subject` from stream sequence `from` on: next() gives the messages
  // in stream order, or none when nothing came within timeout_ms. nats.c holds at most
  // `max_pending` messages (0: its default, 65,536) that the caller has not taken yet, and drops
  // what comes beyond them; the reader then starts again after the last message it gave, so
  // a caller slower than the stream loses nothing and sees nothing twice.
  class reader {
   public:
    virtual ~reader() = default;
    virtual std::optional<stored_message> next(std::int64_t timeout_ms) = 0;
  };
  std::unique_ptr<reader> open_reader(const std::string& stream, const std::string& subject,
                                      std::uint64_t from, int max_pending = 0);
  // Calls f for each message on `subject` from stream sequence `from` on, in stream order,
  // through `through` (a stream sequence, inclusive), then returns. Throws cluster_error when
  // the stream stops delivering for timeout_ms.
  void read(const std::string& stream, const std::string& subject, std::uint64_t from,
            std::uint64_t through, const std::function<void(const stored_message&)>& f,
            std::int64_t timeout_ms = 10'000, int max_pending = 0);
  // A key-value bucket whose keys expire `ttl_ns` after their last write (leases; 0: never),
  // made unless it exists. Throws cluster_error, also when it exists with another TTL. Keys
  // hold bytes, not only text.
  void ensure_kv(const std::string& bucket, std::int64_t ttl_ns, std::int64_t replicas);
  // Writes key = value if the key does not exist (or expired); returns its revision, or 0 when
  // it exists. Throws cluster_error on other failures.
  std::uint64_t kv_create(const std::string& bucket, const std::string& key,
                          const std::string& value);
  // Writes key = value if its revision is still `revision`; returns the new revision, or 0 when
  // another write came first (or the key expired and was taken). Throws on other failures:
  // cluster_not_taken when no server took it.
  std::uint64_t kv_update(const std::string& bucket, const std::string& key,
                          const std::string& value, std::uint64_t revision);
  // Writes key = value whatever is there; returns its revision. Throws cluster_error. Patient:
  // tries again for up to 30 s while the cluster cannot answer yet (a bucket just made by
  // another process may have no leader for a moment).
  std::uint64_t kv_put(const std::string& bucket, const std::string& key, const std::string& value,
                       bool patient = false);
  // The keys of the bucket that begin with `prefix` and hold a record (a value, or the marker a
  // delete leaves until it expires: kv_get says which hold a value), each once, in name order;
  // a key written meanwhile is neither missed nor listed twice. Throws cluster_error
  // (cluster_missing when the bucket does not exist).
  std::vector<std::string> kv_keys(const std::string& bucket, const std::string& prefix);
  // The key's value and revision, or none.
  struct kv_entry {
    std::string value;
    std::uint64_t revision = 0;
  };
  std::optional<kv_entry> kv_get(const std::string& bucket, const std::string& key);
  // Removes the key (a lease given up).
  void kv_delete(const std::string& bucket, const std::string& key);
  // Removes the key and its history, leaving no marker (kv_delete leaves one, which a listing
  // finds for ever in a bucket whose keys never expire): for keys nobody watches. Throws
  // cluster_error.
  void kv_erase(const std::string& bucket, const std::string& key);
  // The server this connection is on now ("" when reconnecting), and how often it reconnected.
  std::string connected_url() const;
  std::uint64_t reconnects() const;
  // The largest message the server takes (its max_payload; 0 while not connected).
  std::size_t max_payload() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace shoal
