// dvpn-gate: the forced command of a jailed dvpn key (authorized_keys
// command="/bin/dvpn-gate SUBNET..."). Runs inside the jail, reads the
// gateway's request from SSH_ORIGINAL_COMMAND and, only if it lies in the key's
// own subnets (PermitOpen cannot express subnets), connects to it and relays
// itself (relay.cpp) — as `nc HOST PORT` would, but with 128 KiB reads where
// busybox nc copies 1 KiB per poll.
//
// The channel's EOF reaches the gateway when the gate ends its stdout and
// stderr, so the gate must hold sshd's only copies: the jail's busybox sh
// runs `sh -c CMD` by exec'ing CMD; under a shell that forks (dash), write
// command="exec ..." or the EOF waits until the gate exits.
//
// Exit status: 1 when denied or the connect fails (as nc, so the gateway
// resets the LAN connection either way); 0 after both directions ended.
// `dvpn-gate --canonical CIDR...` prints each CIDR in canonical form or exits
// 2 naming the bad one; dvpn-jail uses it to validate `authorize` arguments.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "gate.hpp"
#include "relay.hpp"

namespace {

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

  std::signal(SIGPIPE, SIG_IGN);  // a peer gone shows as EPIPE, handled in the relay
  return dvpn::chroot::relay(*verdict.destination, STDIN_FILENO, STDOUT_FILENO);
}
