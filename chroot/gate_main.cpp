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
// Before the subnets the forced command may give `--connect-timeout SECONDS`
// (default 10): a destination that does not answer by then is a failed
// connect, as dvpnd's own connect_timeout is in direct mode.
//
// The gate refuses the gateway itself (its addresses, loopback, unspecified),
// IPv4 through NAT64 or IPv4-compatible forms, multicast and broadcast, unless
// a subnet names them explicitly (gate.hpp, special_refusal). The host's
// addresses come from getifaddrs() here, once per channel; if they cannot be
// listed, everything is denied.
//
// Exit status: 1 when denied or the connect fails (as nc, so the gateway
// resets the LAN connection either way); 0 after both directions ended.
// `dvpn-gate --canonical CIDR...` prints each CIDR in canonical form or exits
// 2 naming the bad one; dvpn-jail uses it to validate `authorize` arguments.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
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

// Every address of every interface, and the IPv4 broadcast addresses.
bool list_host_addresses(dvpn::chroot::HostAddresses& out) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    if (a->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      out.own.push_back(dvpn::hostsdb::Ip::from_v4(ntohl(sin->sin_addr.s_addr)));
      // An address added without "brd" has no IFA_BROADCAST, and glibc then
      // reports the address itself (IFA_ADDRESS) as the broadcast: skip that.
      if ((a->ifa_flags & IFF_BROADCAST) && a->ifa_broadaddr != nullptr &&
          a->ifa_broadaddr->sa_family == AF_INET) {
        const auto* bc = reinterpret_cast<const sockaddr_in*>(a->ifa_broadaddr);
        if (bc->sin_addr.s_addr != sin->sin_addr.s_addr && bc->sin_addr.s_addr != 0)
          out.broadcasts.push_back(dvpn::hostsdb::Ip::from_v4(ntohl(bc->sin_addr.s_addr)));
      }
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
      out.own.push_back(dvpn::hostsdb::Ip::from_v6(bytes));
    }
  }
  freeifaddrs(list);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty() && args[0] == "--canonical")
    return print_canonical({args.begin() + 1, args.end()});

  const auto gate_args = dvpn::chroot::parse_arguments(args);
  if (!gate_args.error.empty()) return fail("denied: key misconfigured: " + gate_args.error);
  const char* command = std::getenv("SSH_ORIGINAL_COMMAND");
  if (command == nullptr) return fail("denied: no command given, expected \"nc HOST PORT\"");
  // dvpnd's prelude: one exec per SSH connection, only so that sshd turns
  // Nagle off for it (see daemon/ssh/session_prelude.cpp). Nothing to do.
  if (std::string_view(command) == "true") return 0;
  dvpn::chroot::HostAddresses local;
  if (!list_host_addresses(local))
    return fail(std::string("denied: cannot list this host's addresses (getifaddrs: ") +
                std::strerror(errno) + ")");
  auto verdict = dvpn::chroot::decide(command, gate_args.subnets, local);
  if (!verdict.destination) return fail(verdict.reason);

  std::signal(SIGPIPE, SIG_IGN);  // a peer gone shows as EPIPE, handled in the relay
  return dvpn::chroot::relay(*verdict.destination, STDIN_FILENO, STDOUT_FILENO,
                             gate_args.connect_timeout);
}
