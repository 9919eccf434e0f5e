#include "runtime/graph/node_id.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "messages/hex.hpp"
#include "messages/msgpack_codec.hpp"

namespace shoal {

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

Value identity_value(const node_identity& n) {
  auto inputs = n.inputs;
  std::sort(inputs.begin(), inputs.end());
  value_list in;
  for (const auto& [port, id] : inputs) in.emplace_back(value_list{Value(port), Value(id)});
  return Value(value_map{
      {"kind", Value(n.kind)},
      {"kind_version", Value(n.kind_version)},
      {"params", Value(n.params)},
      {"interval_ns", Value(n.interval_ns)},
      {"period", Value(n.period)},
      {"on_missing", Value(to_string(n.on_missing))},
      {"inputs", Value(std::move(in))},
  });
}

std::string compute_node_id(const node_identity& n) {
  return sha256_hex(to_msgpack(identity_value(n)));
}

}  // namespace shoal
