#pragma once
// How `shoal tail` prints one output: a line of text (name, seq, bucket time, value cut to
// `width` characters; 0 = never), or with json one JSON object {node, id, bucket, seq, value}.

#include <cstddef>
#include <ostream>

#include "messages/records.hpp"

namespace shoal {

void print_output_line(std::ostream& out, const Output& o, bool json, std::size_t width);

}  // namespace shoal
