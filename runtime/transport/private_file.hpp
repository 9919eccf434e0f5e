#pragma once
// private_file: a file holding a secret (a CURVE secret key, a TLS private key, NATS credentials
// or a password) that this process is to use. It must be the owner's alone: a key that group or
// others may read has been given away, so it is refused with the chmod that mends it.

#include <stdexcept>
#include <string>

namespace shoal {

// Throws std::runtime_error "PATH: no such NOUN" when the file is missing, and "PATH: a NOUN must
// be the owner's alone, ... (mode 0644; chmod 600 PATH)" when group or others may open it.
void require_private_file(const std::string& path, const std::string& noun);

// The first line of a private file (a password), without its line end. Throws as above, and when
// the file cannot be read or its first line is empty.
std::string read_private_line(const std::string& path, const std::string& noun);

}  // namespace shoal
