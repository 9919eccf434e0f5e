// output_seek against a real nats-server: `tail --from-stream --since SEQ` starts reading a
// node's subject near SEQ, not at its start, and still gets every output after SEQ, also one
// stored late (a batch sent again after later seqs) and with other subjects between.
#include <catch2/catch.hpp>

#include <algorithm>
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

}  // namespace

TEST_CASE("output_seek finds where a node's outputs after a seq begin in the stream", "[cluster]") {
  nats_server s;
  auto link = connect(s);
  const cluster_decl c = shoal::testing::one_server_cluster(s, "sk");
  link->ensure_stream(c);
  const std::string subject = c.output_subject(node_id);
  const std::string other = c.output_subject(std::string(64, 'f'));
  // Seqs 1..3000 in batches of 100, another node's output after each batch, and seq 1500
  // stored after 1501..1600 (a batch the cluster answered in part, sent again).
  std::vector<std::uint64_t> order;
  for (std::uint64_t seq = 1; seq <= 3000; ++seq)
    if (seq != 1500) order.push_back(seq);
  order.insert(std::find(order.begin(), order.end(), 1601), 1500);
  std::vector<std::string> bytes;
  for (std::size_t i = 0; i < order.size(); i += 100) {
    std::vector<outgoing_message> msgs;
    for (std::size_t j = i; j < std::min(order.size(), i + 100); ++j) {
      bytes.push_back(output(order[j]));
      msgs.push_back({"sk:" + node_id + ":" + std::to_string(order[j]), "", bytes.back()});
    }
    REQUIRE(link->publish(subject, msgs, 5000).stored == msgs.size());
    bytes.push_back(output(i));
    REQUIRE(
        link->publish(other, {{"sk:other:" + std::to_string(i), "", bytes.back()}}, 5000).stored ==
        1);
    bytes.clear();
  }
  REQUIRE(link->stream_info(c.stream).last_seq == 3000 + 30);
  const std::uint64_t last = link->last_message(c.stream, subject)->stream_seq;  // the node's
  for (const std::uint64_t after : {0, 300, 513, 1400, 1499, 1500, 1550, 2000, 2999, 3000, 9000}) {
    const std::uint64_t from = output_seek(*link, c.stream, subject, after);
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
      CHECK(read <= (after >= 3000 ? 0 : 3000 - after) + 2 * output_exporter::batch_outputs + 110);
    else
      CHECK(from == 1);
  }
}
