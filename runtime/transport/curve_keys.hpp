#pragma once
// curve_keys: CURVE key pairs (ZeroMQ's Curve25519 authentication and encryption) as files an
// operator manages. The files are ZeroMQ certificates in the ZPL text form CZMQ and pyzmq write
// (NAME.key: the public key; NAME.key_secret: both keys, mode 0600), so `zmq.auth.
// load_certificate` and the Node client read shoal's keys and shoal reads theirs. Keys are Z85
// text, 40 characters for 32 bytes.

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "runtime/graph/z85_key.hpp"

namespace shoal {

class curve_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct curve_pair {
  std::string public_key, secret_key;  // Z85; secret_key empty for a public certificate
};

// A new key pair (libzmq's zmq_curve_keypair, from the system's randomness).
curve_pair generate_curve_pair();

// Writes DIR/NAME.key (public, 0644) and DIR/NAME.key_secret (both, 0600: created so, never
// readable by others for a moment); returns their paths. Existing files are refused unless
// `replace`.
std::pair<std::string, std::string> write_curve_files(const std::string& dir,
                                                      const std::string& name,
                                                      const curve_pair& keys, bool replace = false);

// What a certificate file holds. Throws curve_error naming the file: unreadable, no valid public
// key, a secret key that is not 40 Z85 characters or not the public key's.
curve_pair read_curve_file(const std::string& path);

// A secret key for this process to use: the file's keys, refused (curve_error naming the path and
// its mode) when the file is readable by group or others, or holds no secret key.
curve_pair read_secret_curve_file(const std::string& path);

// A CURVE client's settings: our key pair's certificate and the server's public key (Z85).
// Empty: plain ZeroMQ.
struct curve_client {
  std::string secret_key_file, server_key;
  bool on() const { return !secret_key_file.empty(); }
};

// Makes sock a CURVE client (before connect) when c.on(); throws curve_error for a key file
// others may read or that cannot be read.
void apply_curve_client(zmq::socket_t& sock, const curve_client& c);

// The public keys of the certificates in dir (every regular file holding a public-key line;
// unreadable ones are skipped and named in `problems`). Throws curve_error when the directory
// cannot be listed.
std::set<std::string> read_allowed_keys(const std::string& dir, std::string* problems = nullptr);

}  // namespace shoal
