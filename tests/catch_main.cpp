// The Catch2 runner's main, compiled once for every test executable: it holds Catch2's whole
// implementation (~40 s of compile at -O2 per copy), and nothing in it is on a measured path.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
