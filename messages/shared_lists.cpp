#include "messages/shared_lists.hpp"

#include "messages/msgpack_writer.hpp"

namespace shoal {

shared_list_cache& shared_list_cache::this_thread() {
  thread_local shared_list_cache cache;
  return cache;
}

void encode_names(shared_names& names) {
  names.encoded.clear();
  detail::msgpack_writer w(names.encoded);
  w.array(names.items.size());
  for (const auto& s : names.items) w.str(s.as_string());
}

}  // namespace shoal
