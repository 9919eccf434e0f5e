// output_seek against a real nats-server: `tail --from-stream --since SEQ` starts reading a
// node's subject near SEQ, not at its start, and still gets every output after SEQ, also one
// stored late (a batch sent again after later seqs) and with other subjects between.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "messages/records.hpp"
#include "nats_server.hpp"
#include "runtime/cluster/output_exporter.hpp"
#include "runtime/cluster/output_seek.hpp"

using namespace shoal;
using shoal::testing::connect;
using shoal::testing::nats_server;

namespace {

const std::string node_id(64, 'd');

std::string output(std::uint64_t seq) {
  return encode_output("n", node_id, static_cast<std::int64_t>(seq) * 1000, seq,
                       make_value(Value(static_cast<double>(seq) / 3)));
}

// A server, a stream with direct gets, the node's subject and another node's.
struct seek_fixture : shoal::testing::one_stream {
  seek_fixture() : one_stream("sk") {}
  std::string subject = c.output_subject(node_id);
  std::string other = c.output_subject(std::string(64, 'f'));
};

}  // namespace

TEST_CASE_METHOD(seek_fixture,
                 "output_seek finds where a node's outputs after a seq begin in the stream",
                 "[cluster]") {
  std::uint64_t others = 0;
  auto publish_others = [&](std::size_t n) {
    std::vector<std::string> bytes;
    bytes.reserve(n);
    std::vector<outgoing_message> msgs;
    for (std::size_t i = 0; i < n; ++i, ++others) {
      bytes.push_back(output(others));
      msgs.push_back({"sk:other:" + std::to_string(others), "", bytes.back()});
    }
    REQUIRE(link->publish(other, msgs, 5000).stored == n);
  };
  // Seqs 1..3000 in batches of 100, another node's output after each batch; seq 1500 stored
  // after 1501..1700 (a batch the cluster answered in part, sent again), with 2,000 of the
  // other node's before it, so that a probe lands on it more likely than on any other.
  std::vector<std::uint64_t> order;
  for (std::uint64_t seq = 1; seq <= 3000; ++seq)
    if (seq != 1500) order.push_back(seq);
  order.insert(std::find(order.begin(), order.end(), 1701), 1500);
  std::vector<std::string> bytes;
  bytes.reserve(100);  // the messages' views into it stay valid
  std::vector<outgoing_message> msgs;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i] == 1500) {
      REQUIRE(link->publish(subject, msgs, 5000).stored == msgs.size());
      msgs.clear();
      bytes.clear();
      publish_others(2000);
    }
    bytes.push_back(output(order[i]));
    msgs.push_back({"sk:" + node_id + ":" + std::to_string(order[i]), "", bytes.back()});
    if (msgs.size() == 100 || i + 1 == order.size()) {
      REQUIRE(link->publish(subject, msgs, 5000).stored == msgs.size());
      msgs.clear();
      bytes.clear();
      publish_others(1);
    }
  }
  const jetstream_link::stream_state st = link->stream_info(c.stream);
  REQUIRE(st.allow_direct);
  REQUIRE(st.last_seq == 3000 + others);
  const std::uint64_t last = link->last_message(c.stream, subject)->stream_seq;  // the node's
  // A subject with nothing on it: nothing to skip.
  CHECK(output_seek(*link, c.stream, st, c.output_subject(std::string(64, '0')), 5000) == 1);
  // A subject that starts later in the stream (the other node's, after the first batch): read
  // from its first message, not from the stream's start, when the seq wanted is near its start.
  const std::uint64_t other_first = link->next_message(c.stream, other, 1)->stream_seq;
  CHECK(other_first == 101);
  for (const std::uint64_t after : {0, 5, 500}) {
    bool whole = false;  // the read gets the whole subject: nothing of it to read again
    CHECK(output_seek(*link, c.stream, st, other, after, true, &whole) == other_first);
    CHECK(whole);
  }
  bool whole = true;  // a seek: seqs stored late before it may call for a read again
  CHECK(output_seek(*link, c.stream, st, subject, 2000, true, &whole) > 1);
  CHECK_FALSE(whole);
  for (const std::uint64_t after :
       {0, 300, 513, 1400, 1499, 1500, 1550, 1600, 1650, 1699, 1700, 2000, 2999, 3000, 9000}) {
    const std::uint64_t from = output_seek(*link, c.stream, st, subject, after);
    std::set<std::uint64_t> got;
    std::size_t read = 0;
    if (from <= last) {
      link->read(c.stream, subject, from, last, [&](const stored_message& m) {
        ++read;
        got.insert(decode_output(m.data).seq);
      });
    }
    for (std::uint64_t seq = after + 1; seq <= 3000; ++seq) {
      INFO("after " << after << ", from stream sequence " << from);
      REQUIRE(got.count(seq));
    }
    // It seeks: at most two batches of the exporter's and a little read before the seq wanted.
    INFO("after " << after << ", from stream sequence " << from << ", read " << read);
    if (after > 2 * output_exporter::batch_outputs)
      CHECK(read <= (after >= 3000 ? 0 : 3000 - after) + 2 * output_exporter::batch_outputs + 300);
    else
      CHECK(from == 1);
  }
  // By bucket (`tail --from-stream --from TIME`): seq s is for bucket s * 1000. The seq found is
  // for an earlier bucket, so every output for the bucket or later comes after it, and it is the
  // last such seq or close to it: here, the last, or seq 1500, stored after 1700.
  CHECK(output_seq_before_bucket(*link, c.stream, st, c.output_subject(std::string(64, '0')),
                                 std::string(64, '0'), 5000) == 0);
  for (const std::int64_t bucket :
       {-5, 0, 1000, 1001, 2000, 300'000, 1'499'000, 1'500'000, 1'500'500, 1'501'000, 1'650'000,
        1'701'000, 2'999'999, 3'000'000, 3'000'001, 9'000'000}) {
    const std::uint64_t seq =
        output_seq_before_bucket(*link, c.stream, st, subject, node_id, bucket);
    // The last seq for a bucket before `bucket`.
    const std::int64_t below = std::clamp<std::int64_t>((bucket - 1) / 1000, 0, 3000);
    INFO("bucket " << bucket << ": seq " << seq);
    if (bucket <= 1000) {
      CHECK(seq == 0);
      continue;
    }
    CHECK(static_cast<std::int64_t>(seq) * 1000 < bucket);
    // Here: the last one, or 1500 where it lies among later seqs.
    CHECK((seq == static_cast<std::uint64_t>(below) || (seq == 1500 && below > 1500)));
  }
  // Another node's output on the subject, for an early bucket with a high seq, last after more
  // of the other subject's messages than the stream held (where the search's probes land): not
  // the node's, so not where the search ends.
  publish_others(2 * st.last_seq);
  const std::string foreign =
      encode_output("n", std::string(64, 'e'), 1000, 99'999, make_value(Value(1.0)));
  REQUIRE(link->publish(subject, {{"sk:foreign", "", foreign}}, 5000).stored == 1);
  const jetstream_link::stream_state st2 = link->stream_info(c.stream);
  CHECK(output_seq_before_bucket(*link, c.stream, st2, subject, node_id, 2'000'000) == 1999);
}

// Rarer late copies can lie further back than the margin (a partitioned process's publishes sent
// on its reconnect, after the duplicate window): a seek that lands past seqs wanted sees that the
// subject does not go on at the seq after the one wanted there, and gives the subject's start.
TEST_CASE_METHOD(seek_fixture,
                 "output_seek reads from the start when a copy stored late lies past the margin",
                 "[cluster]") {
  std::vector<std::string> bytes;
  auto publish = [&](const std::string& subj, const std::string& id, std::uint64_t from,
                     std::uint64_t through) {
    bytes.clear();
    bytes.reserve(through - from + 1);
    std::vector<outgoing_message> msgs;
    for (std::uint64_t seq = from; seq <= through; ++seq) {
      bytes.push_back(output(seq));
      msgs.push_back({id + std::to_string(seq), "", bytes.back()});
    }
    REQUIRE(link->publish(subj, msgs, 5000).stored == msgs.size());
  };
  publish(subject, "sk:n:", 1, 2000);
  publish(other, "sk:o:", 1, 3000);          // probes land after them more likely
  publish(subject, "sk:late:", 1000, 1000);  // a copy of seq 1000 stored long after
  bool whole = false;
  auto reads_all_after = [&](std::uint64_t after) {
    const auto st = link->stream_info(c.stream);
    const std::uint64_t from = output_seek(*link, c.stream, st, subject, after, true, &whole);
    const std::uint64_t last = link->last_message(c.stream, subject)->stream_seq;
    std::set<std::uint64_t> got;
    if (from <= last) {
      link->read(c.stream, subject, from, last,
                 [&](const stored_message& m) { got.insert(decode_output(m.data).seq); });
    }
    INFO("after " << after << ", from stream sequence " << from << ", the node's last at " << last);
    REQUIRE_FALSE(got.empty());
    const std::uint64_t top = *std::prev(got.end());
    for (std::uint64_t seq = after + 1; seq <= top; ++seq) {
      INFO("after " << after << ", from stream sequence " << from);
      REQUIRE(got.count(seq));
    }
    return from;
  };
  // Seqs after the late copy: the first after the seek is not the one after the one wanted.
  // (With none after it, the seek cannot tell: `shoal tail` reads again once one comes.)
  publish(subject, "sk:n:", 2001, 2100);
  CHECK(reads_all_after(1800) == 1);
  CHECK(whole);
  // Past the late copy, the seek holds.
  CHECK(reads_all_after(2090) > 5000);
  CHECK_FALSE(whole);
}
