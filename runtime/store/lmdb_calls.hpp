#pragma once
// What store.cpp and store_writer.cpp both need around LMDB's C API: errors as store_error, and
// string views as MDB_val and back. Internal to runtime/store/.

#include <lmdb.h>

#include <string>
#include <string_view>

#include "runtime/store/store.hpp"

namespace shoal::lmdb {

inline void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw store_error(std::string(what) + ": " + mdb_strerror(rc));
}

inline MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

}  // namespace shoal::lmdb
