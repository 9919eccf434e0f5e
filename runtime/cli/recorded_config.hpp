#pragma once
// The config a data dir was recorded with, kept in its meta db as a msgpack map
// {main: "engine.toml", files: {relative path: text}} — the engine file and its strategy files —
// so `shoal replay DIR` rebuilds the same graph without the original files at hand.

#include <string>

#include "runtime/graph/config.hpp"

namespace shoal {

std::string pack_config_files(const config& cfg);
// Writes the recorded files under dir and returns the path of the engine file.
std::string unpack_config_files(const std::string& packed, const std::string& dir);

}  // namespace shoal
