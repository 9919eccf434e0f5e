#include <chrono>

#include "actors/fabricator/fabricator.hpp"
#include "runtime/engine/sources.hpp"

namespace shoal {
namespace {

struct fabricator_state {
  std::unique_ptr<fabricator> gen;
  std::vector<stream_target> streams;  // [scan, ob]
  std::uint64_t scan_seq = 0, ob_seq = 0;
  std::chrono::nanoseconds pace{0};
  static inline const char* name = "shoal.fabricator";
};

caf::behavior fabricator_source(caf::stateful_actor<fabricator_state>* self, source_decl decl,
                                std::vector<stream_target> streams) {
  auto& st = self->state;
  st.gen = std::make_unique<fabricator>(decl.params, decl.interval_ns);
  st.streams = std::move(streams);
  st.pace = std::chrono::nanoseconds(decl.pace_ns > 0 ? decl.pace_ns : decl.interval_ns);
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        // Schedule first, so computing a bucket does not stretch the pace.
        self->delayed_send(self, s.pace, tick_atom::value);
        fabricated_bucket b = s.gen->next();
        const caf::actor& scan = s.streams[0].node;
        const caf::actor& ob = s.streams[1].node;
        self->send(scan, event_atom::value, std::uint32_t{0}, ++s.scan_seq, b.scan_ts,
                   make_value(std::move(b.scan)));
        for (auto& [ts, book] : b.books)
          self->send(ob, event_atom::value, std::uint32_t{0}, ++s.ob_seq, ts,
                     make_value(std::move(book)));
        // The fabricator knows its bucket is complete: it closes the book stream itself.
        self->send(ob, watermark_atom::value, std::uint32_t{0}, b.watermark_ts);
      },
  };
}

}  // namespace

caf::actor spawn_fabricator_source(caf::actor_system& sys, const source_decl& decl,
                                   std::vector<stream_target> streams) {
  return sys.spawn(fabricator_source, decl, std::move(streams));
}

}  // namespace shoal
