// libFuzzer target: the admin request parser (admin_answer), fed one request line as it comes
// off the Unix socket (no token) and off loopback TCP (token required), in front of a trivial
// backend that answers a few commands, refuses others and fails on one.
//
// Checked beyond "no crash, no UB, no leak": admin_answer never throws, and every answer is
// one line of valid JSON, an object whose "ok" is a bool (the protocol of design §9).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "runtime/admin/admin_protocol.hpp"

namespace {

using json = nlohmann::json;

class echo_backend : public shoal::admin_backend {
 public:
  json handle(const std::string& cmd, const json& request) override {
    if (cmd == "help") {
      return json{{"commands", json::array({"help", "echo", "inspect", "fail"})}};
    }
    if (cmd == "echo") {
      return json{{"request", request}};
    }
    if (cmd == "inspect") {
      const auto node = request.find("node");
      if (node == request.end() || !node->is_string()) {
        throw shoal::admin_error("inspect needs \"node\": string");
      }
      throw shoal::admin_error("unknown node " + node->get<std::string>());
    }
    if (cmd == "fail") {
      throw std::runtime_error("backend failed on " + request.dump());
    }
    throw shoal::admin_error("unknown command " + cmd);
  }
  std::string metrics_text() override { return "shoal_up 1\n"; }
};

json check_answer(const std::string& answer) {
  if (answer.empty() || answer.back() != '\n' || answer.find('\n') != answer.size() - 1) {
    __builtin_trap();
  }
  const json reply = json::parse(answer);  // throws (and so crashes) unless valid UTF-8 JSON
  const auto ok = reply.find("ok");
  if (!reply.is_object() || ok == reply.end() || !ok->is_boolean()) {
    __builtin_trap();
  }
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static echo_backend backend;
  static const std::string token = "fuzz-token";
  const std::string line(reinterpret_cast<const char*>(data), size);
  check_answer(shoal::admin_answer(backend, line, nullptr).line);  // Unix socket: no token
  const shoal::admin_reply tcp = shoal::admin_answer(backend, line, &token);
  // A request refused for its token never reaches the backend: the reply must say so.
  if (check_answer(tcp.line)["ok"].get<bool>() && tcp.bad_token) {
    __builtin_trap();
  }
  return 0;
}
