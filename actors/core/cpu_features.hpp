#pragma once
// cpu_has_avx: whether the CPU this process runs on has AVX, asked once. x86-64's baseline is
// SSE2 and the build does not assume more, so a kernel with an AVX path asks before taking it
// (and keeps a path without it, which gives the same bits).

namespace shoal {

bool cpu_has_avx();

}  // namespace shoal
