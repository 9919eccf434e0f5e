#include <chrono>

#include "actors/fabricator/fabricator.hpp"
#include "runtime/engine/sources.hpp"

namespace shoal {
namespace {

struct fabricator_state {
  std::unique_ptr<fabricator> gen;
  std::shared_ptr<ingest> in;
  std::string scan, ob;  // stream names
  std::uint64_t scan_index = 0, ob_index = 0;
  std::chrono::nanoseconds pace{0};
  static inline const char* name = "shoal.fabricator";
};

caf::behavior fabricator_source(caf::stateful_actor<fabricator_state>* self, source_decl decl,
                                std::shared_ptr<ingest> in) {
  auto& st = self->state;
  st.gen = std::make_unique<fabricator>(decl.params, decl.interval_ns);
  st.in = std::move(in);
  st.scan = decl.name + ".scan";
  st.ob = decl.name + ".ob";
  st.pace = std::chrono::nanoseconds(decl.pace_ns > 0 ? decl.pace_ns : decl.interval_ns);
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& s = self->state;
        // Schedule first, so computing a bucket does not stretch the pace.
        self->delayed_send(self, s.pace, tick_atom::value);
        // Buckets the journal already holds (after a restart) are regenerated and skipped by
        // ingest without waiting for the pace: continue until one bucket is new.
        for (bool fresh = false; !fresh;) {
          fabricated_bucket b = s.gen->next();
          fresh |= s.in->event(s.scan, b.scan_ts, make_value(std::move(b.scan)), ++s.scan_index);
          for (auto& [ts, book] : b.books)
            fresh |= s.in->event(s.ob, ts, make_value(std::move(book)), ++s.ob_index);
          // The fabricator knows its bucket is complete: it closes the book stream itself.
          if (s.gen->books()) fresh |= s.in->watermark(s.ob, b.watermark_ts);
        }
      },
  };
}

}  // namespace

caf::actor spawn_fabricator_source(caf::actor_system& sys, const source_decl& decl,
                                   std::shared_ptr<ingest> in) {
  return sys.spawn(fabricator_source, decl, std::move(in));
}

}  // namespace shoal
