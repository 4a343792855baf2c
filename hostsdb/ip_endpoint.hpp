#pragma once
// An IP address and a TCP port as one plain value, and the one spelling of it
// everywhere: "10.0.0.1:7007", "[fd00::1]:7007". Config listen entries, the
// firewall parameters, the listeners and the log lines all go through here,
// so an entry one of them accepts is never refused (or misread) by another.
//
// Not named `Endpoint`: that is a site's SSH gateway (site.hpp), which may be
// a DNS name and leaves user and port to the config defaults.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ip.hpp"

namespace dvpn::hostsdb {

struct IpEndpoint {
  Ip ip;
  std::uint16_t port = 0;

  // Parses ADDRESS:PORT: an IPv4 literal, or an IPv6 literal in brackets
  // (so "::1:7007" cannot be misread; IPv4, IPv4-mapped included, never in
  // brackets), then a decimal port 1-65535. A malformed text yields an error
  // saying what was wrong and what was expected.
  struct Parsed;
  static Parsed parse(std::string_view text);

  std::string to_string() const;  // "10.0.0.1:7007", "[fd00::1]:7007"
  friend bool operator==(const IpEndpoint&, const IpEndpoint&) = default;
};

struct IpEndpoint::Parsed {
  std::optional<IpEndpoint> endpoint;
  std::string error;  // empty when endpoint is set
};

// "host:port", with the host in brackets when it holds a ':' (an IPv6
// literal, also one with a zone as sockets report link-local peers).
std::string host_port_text(std::string_view host, std::uint16_t port);

// A decimal port 1-65535 (leading zeros allowed, no sign). "" on success,
// else what is wrong, quoting `digits`.
std::string parse_port(std::string_view digits, std::uint16_t& port);

}  // namespace dvpn::hostsdb
