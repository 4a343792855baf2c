#include "reach.hpp"

#include <array>

namespace dvpn::pool {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Errno texts (strerror) that mean the host itself answered.
constexpr std::array host_answered{"Connection refused", "Connection reset by peer"};

}  // namespace

Evidence judge(hostsdb::Mode mode, std::string_view reason, bool opened, std::uint64_t bytes_down) {
  // Before any other rule: a session that could not be had, or broke, says
  // nothing about what lies behind its far end (the pool's `failing` covers it).
  if (reason.starts_with("gateway-unreachable") || reason.starts_with("session-died") ||
      reason.starts_with("timeout: every channel"))
    return {};
  if (mode == hostsdb::Mode::direct && opened) return {Reach::reached, {}};
  if (mode == hostsdb::Mode::netcat && (bytes_down > 0 || reason == "ok" || reason.starts_with("ok ")))
    return {Reach::reached, {}};

  constexpr std::string_view failed = "far-end-failed: ";
  constexpr std::string_view refused = "far-end-refused: ";
  if (reason.starts_with(failed)) {
    const std::string_view text = reason.substr(failed.size());
    for (std::string_view answer : host_answered)
      if (contains(text, answer)) return {Reach::reached, {}};
    // No route, no answer, denied by the gate, a command that cannot run:
    // whatever else keeps the far end from the host.
    return {Reach::unreachable, std::string(text)};
  }
  if (reason.starts_with(refused)) return {Reach::unreachable, std::string(reason.substr(refused.size()))};
  if (reason.starts_with("timeout: no channel"))
    return {Reach::unreachable, "no answer within connect_timeout"};
  return {};
}

}  // namespace dvpn::pool
