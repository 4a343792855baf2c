#pragma once
// dvpn-gate's decision, as pure functions: which destination the far end was
// asked for (SSH_ORIGINAL_COMMAND "nc HOST PORT") and whether the key's subnets
// allow it. No I/O here, so the unit tests drive it from strings.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ip.hpp"

namespace dvpn::chroot {

// A destination the gateway asked for, already validated.
struct Destination {
  hostsdb::Ip host;
  std::uint16_t port = 0;

  // The exact argv text handed to nc: canonical address and decimal port, so
  // nc never sees a spelling the check did not (no octal, no service names).
  std::string host_text() const { return host.to_string(); }
  std::string port_text() const { return std::to_string(port); }
};

// Parses the one accepted command: "nc HOST PORT", fields separated by spaces
// or tabs, HOST an IPv4 or IPv6 literal (no brackets, no zone, no name), PORT
// decimal 1-65535 without leading zeros. Anything else is an error text that
// quotes the input.
struct ParsedCommand {
  std::optional<Destination> destination;
  std::string error;  // empty when destination is set
};
ParsedCommand parse_command(std::string_view command);

// Parses the allowed subnets (the gate's arguments) as CIDRs with no host bits.
struct ParsedSubnets {
  std::vector<hostsdb::Prefix> subnets;
  std::string error;  // empty on success; names the first bad argument
};
ParsedSubnets parse_subnets(std::span<const std::string_view> args);

// True if `host` lies in one of `subnets` of its own family: an IPv4
// destination needs an IPv4 subnet, an IPv6 one an IPv6 subnet (so "::/0"
// does not open every IPv4 address).
bool allowed(const hostsdb::Ip& host, std::span<const hostsdb::Prefix> subnets) noexcept;

// The whole decision: the destination to connect to, or a one-line reason.
struct Verdict {
  std::optional<Destination> destination;
  std::string reason;  // empty when destination is set
};
Verdict decide(std::string_view command, std::span<const std::string_view> subnet_args);

}  // namespace dvpn::chroot
