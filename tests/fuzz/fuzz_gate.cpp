// libFuzzer target: dvpn-gate's argument and command parsing and its allow
// decision (chroot/gate.hpp). Input: the first line is SSH_ORIGINAL_COMMAND,
// every further line one word of the forced command (options, subnets).
// Besides crashes it checks what the gate relies on:
//   - an allowed destination lies in a subnet of the key, is no special
//     address, and its canonical text parses back to itself (nc is handed
//     exactly what was checked);
//   - a denial reason is one line (the gate prints it as one);
//   - canonical subnets parse back to themselves (dvpn-jail authorize writes
//     them into authorized_keys).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gate.hpp"

namespace {

using dvpn::chroot::HostAddresses;
using dvpn::hostsdb::Ip;

const HostAddresses& host() {
  static const HostAddresses h = [] {
    HostAddresses out;
    for (auto a : {"127.0.0.1", "::1", "10.20.0.1", "fd00:20::1", "198.51.100.2"})
      out.own.push_back(*Ip::parse(a));
    out.broadcasts.push_back(*Ip::parse("10.20.0.255"));
    return out;
  }();
  return h;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view command = input.substr(0, newline);
  std::vector<std::string_view> words;
  if (newline != std::string_view::npos) {
    std::string_view rest = input.substr(newline + 1);
    while (true) {
      const auto end = rest.find('\n');
      words.push_back(rest.substr(0, end));
      if (end == std::string_view::npos) break;
      rest = rest.substr(end + 1);
    }
  }

  const auto args = dvpn::chroot::parse_arguments(words);
  check(args.error.find('\n') == std::string::npos);
  if (!args.error.empty()) return 0;
  check(args.connect_timeout.count() >= 1 && args.connect_timeout.count() <= 3600);

  const auto subnets = dvpn::chroot::parse_subnets(args.subnets);
  check(subnets.error.find('\n') == std::string::npos);
  for (const auto& subnet : subnets.subnets) {
    const auto again = dvpn::hostsdb::Prefix::parse(subnet.to_string());
    check(again.prefix && *again.prefix == subnet);
  }

  const auto parsed = dvpn::chroot::parse_command(command);
  check(parsed.error.find('\n') == std::string::npos);

  const auto verdict = dvpn::chroot::decide(command, args.subnets, host());
  check(verdict.destination.has_value() == verdict.reason.empty());
  check(verdict.reason.find('\n') == std::string::npos);
  if (verdict.destination) {
    const auto& to = *verdict.destination;
    check(subnets.error.empty() && parsed.destination);
    check(dvpn::chroot::allowed(to.host, subnets.subnets));
    check(!dvpn::chroot::special_refusal(to.host, subnets.subnets, host()));
    check(to.port != 0);
    const auto text = Ip::parse(to.host_text());
    check(text && *text == to.host);
    const auto again = dvpn::chroot::parse_command("nc " + to.host_text() + " " + to.port_text());
    check(again.destination && again.destination->host == to.host && again.destination->port == to.port);
  }
  return 0;
}
