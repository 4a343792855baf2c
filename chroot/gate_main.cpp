// dvpn-gate: the forced command of a jailed dvpn key (authorized_keys
// command="/bin/dvpn-gate SUBNET..."). Runs inside the jail, reads the
// gateway's request from SSH_ORIGINAL_COMMAND and execs busybox nc to it only
// if it lies in the key's own subnets: PermitOpen cannot express subnets.
//
// Exit status: 1 when denied (as nc does when it cannot connect, so the
// gateway resets the LAN connection either way); nc's own status otherwise.
// `dvpn-gate --canonical CIDR...` prints each CIDR in canonical form or exits
// 2 naming the bad one; dvpn-jail uses it to validate `authorize` arguments.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "gate.hpp"

namespace {

constexpr const char* nc_path = "/bin/nc";  // busybox nc inside the jail

int fail(const std::string& reason) {
  std::fprintf(stderr, "dvpn-gate: %s\n", reason.c_str());
  return 1;
}

int print_canonical(const std::vector<std::string_view>& args) {
  auto parsed = dvpn::chroot::parse_subnets(args);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "dvpn-gate: %s\n", parsed.error.c_str());
    return 2;
  }
  for (const auto& subnet : parsed.subnets) std::printf("%s\n", subnet.to_string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty() && args[0] == "--canonical")
    return print_canonical({args.begin() + 1, args.end()});

  const char* command = std::getenv("SSH_ORIGINAL_COMMAND");
  if (command == nullptr) return fail("denied: no command given, expected \"nc HOST PORT\"");
  auto verdict = dvpn::chroot::decide(command, args);
  if (!verdict.destination) return fail(verdict.reason);

  auto host = verdict.destination->host_text();
  auto port = verdict.destination->port_text();
  char* nc_argv[] = {const_cast<char*>("nc"), host.data(), port.data(), nullptr};
  execv(nc_path, nc_argv);
  return fail(std::string("cannot run ") + nc_path + ": " + std::strerror(errno));
}
