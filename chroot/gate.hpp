#pragma once
// dvpn-gate's decision, as pure functions: which destination the far end was
// asked for (SSH_ORIGINAL_COMMAND "nc HOST PORT") and whether the key's subnets
// allow it. No I/O here, so the unit tests drive it from strings; what the
// gate learns about its own host (getifaddrs) comes in as a HostAddresses.
#include <chrono>
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

// The gate's whole argument list (the forced command's words after
// /bin/dvpn-gate): options first, then the subnets.
//   --connect-timeout SECONDS (or --connect-timeout=SECONDS): how long the
//   connect to the destination may take, 1-3600, default 10.
// `subnets` views into `args`.
constexpr std::chrono::seconds default_connect_timeout{10};
struct GateArguments {
  std::chrono::seconds connect_timeout = default_connect_timeout;
  std::vector<std::string_view> subnets;
  std::string error;  // empty on success; names the bad option
};
GateArguments parse_arguments(std::span<const std::string_view> args);

// True if `host` lies in one of `subnets` of its own family: an IPv4
// destination needs an IPv4 subnet, an IPv6 one an IPv6 subnet (so "::/0"
// does not open every IPv4 address).
bool allowed(const hostsdb::Ip& host, std::span<const hostsdb::Prefix> subnets) noexcept;

// The host the gate runs on: every address of every interface (lo included)
// and the IPv4 broadcast address of each, as getifaddrs() lists them.
struct HostAddresses {
  std::vector<hostsdb::Ip> own;
  std::vector<hostsdb::Ip> broadcasts;
};

// Destinations a subnet of the key does not open just by containing them,
// because connecting there leaves the LAN: the gateway itself (its own
// addresses, any loopback or unspecified address: the connection runs over
// `lo`, past firewall rules on the LAN interface), and IPv4 reached through an
// IPv6 form (NAT64 64:ff9b::/96 and 64:ff9b:1::/48, IPv4-compatible ::/96;
// IPv4-mapped ::ffff:0:0/96 is already parsed as the IPv4 address it maps).
//
// "Named explicitly": such a destination is allowed when a subnet of the key
// that contains it lies inside its range — 127.0.0.0/8 or 127.0.0.1/32 for
// loopback, 64:ff9b::/96 or 64:ff9b::a14:0/120 for NAT64, the address's own
// /32 or /128 for one of the host's addresses. Prefixes nest or are
// disjoint, so that is the same as "a matching subnet at least as specific as
// the range": 0.0.0.0/0, ::/0, 10.20.0.0/24 or 64::/16 never open them.
// Multicast (224.0.0.0/4, ff00::/8) and broadcast (255.255.255.255 and the
// host's interface broadcasts) carry no TCP and are refused whatever the
// subnets say.
//
// Returns the reason `host` is refused ("a loopback address", ...), or
// nullopt when it is an ordinary destination or named explicitly.
std::optional<std::string> special_refusal(const hostsdb::Ip& host,
                                           std::span<const hostsdb::Prefix> subnets,
                                           const HostAddresses& local);

// The whole decision: the destination to connect to, or a one-line reason.
// `local` is what getifaddrs() found at gate start (empty in tests that are
// not about the host's own addresses).
struct Verdict {
  std::optional<Destination> destination;
  std::string reason;  // empty when destination is set
};
Verdict decide(std::string_view command, std::span<const std::string_view> subnet_args,
               const HostAddresses& local = {});

}  // namespace dvpn::chroot
