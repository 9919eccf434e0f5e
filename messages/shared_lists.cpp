#include "messages/shared_lists.hpp"

namespace shoal {

shared_list_cache& shared_list_cache::this_thread() {
  thread_local shared_list_cache cache;
  return cache;
}

}  // namespace shoal
