// curve_keys: key pairs written as ZeroMQ certificates and read back; secret files others may
// read are refused; broken files are named; an allow-list directory skips what it cannot read.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <functional>

#include "../unit/temp_files.hpp"
#include "runtime/transport/curve_keys.hpp"

using namespace shoal;
using shoal::testing::temp_dir;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const curve_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("runtime: curve keys: a pair is written, 0600 for the secret, and read back",
          "[runtime][curve]") {
  temp_dir dir;
  const curve_pair keys = generate_curve_pair();
  CHECK(is_z85_key(keys.public_key));
  CHECK(is_z85_key(keys.secret_key));
  CHECK(keys.public_key != generate_curve_pair().public_key);
  const auto [pub, sec] = write_curve_files(dir.path().string(), "desk", keys);
  struct stat st {};
  REQUIRE(::stat(sec.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const curve_pair back = read_secret_curve_file(sec);
  CHECK(back.public_key == keys.public_key);
  CHECK(back.secret_key == keys.secret_key);
  const curve_pair pub_only = read_curve_file(pub);
  CHECK(pub_only.public_key == keys.public_key);
  CHECK(pub_only.secret_key.empty());
  // An existing pair is kept unless replaced on purpose.
  CHECK(message_of([&] {
          write_curve_files(dir.path().string(), "desk", generate_curve_pair());
        }).find("exists") != std::string::npos);
  CHECK(read_curve_file(pub).public_key == keys.public_key);
  const curve_pair other = generate_curve_pair();
  write_curve_files(dir.path().string(), "desk", other, /*replace=*/true);
  CHECK(read_curve_file(pub).public_key == other.public_key);
  CHECK(message_of([&] {
          read_allowed_keys((dir.path() / "missing").string());
        }).find("cannot list") != std::string::npos);
  CHECK(message_of([&] { read_secret_curve_file(pub); }).find("group or others") !=
        std::string::npos);  // a public file is 0644: refused as a secret before it is read
  ::chmod(pub.c_str(), 0600);
  CHECK(message_of([&] { read_secret_curve_file(pub); }).find("holds no secret-key") !=
        std::string::npos);
}

TEST_CASE("runtime: curve keys: a secret others may read, and broken files, are refused by name",
          "[runtime][curve]") {
  temp_dir dir;
  const auto [pub, sec] = write_curve_files(dir.path().string(), "engine", generate_curve_pair());
  ::chmod(sec.c_str(), 0640);
  const std::string open = message_of([&] { read_secret_curve_file(sec); });
  CHECK(open.find(sec) != std::string::npos);
  CHECK(open.find("mode 0640") != std::string::npos);
  CHECK(open.find("chmod 600") != std::string::npos);

  const auto write = [&](const std::string& name, const std::string& text) {
    return dir.write(name, text);
  };
  const std::string junk = write("junk.key", "hello\n");
  CHECK(message_of([&] { read_curve_file(junk); }).find("no public-key") != std::string::npos);
  const std::string mismatch = write(
      "mismatch.key", "curve\n    public-key = \"" + generate_curve_pair().public_key +
                          "\"\n    secret-key = \"" + generate_curve_pair().secret_key + "\"\n");
  CHECK(message_of([&] { read_curve_file(mismatch); }).find("not the secret-key's") !=
        std::string::npos);
  CHECK(message_of([&] {
          read_secret_curve_file((dir.path() / "none").string());
        }).find("no such secret key file") != std::string::npos);

  // The allow-list: the good public key, the others named as skipped.
  std::string problems;
  const auto allowed = read_allowed_keys(dir.path().string(), &problems);
  CHECK(allowed.size() == 1);  // engine.key and engine.key_secret hold the same public key
  CHECK(allowed.count(read_curve_file(pub).public_key) == 1);
  CHECK(problems.find("junk.key") != std::string::npos);
  CHECK(problems.find("mismatch.key") != std::string::npos);
}
