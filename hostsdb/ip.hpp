#pragma once
// IP addresses and prefixes as plain values, with no socket headers: IPv4 is
// kept as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) so one 128-bit space and
// one longest-prefix search serve both families.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dvpn::hostsdb {

// A 128-bit address; IPv4 lives in the ::ffff:0:0/96 range.
struct Ip {
  std::array<std::uint8_t, 16> bytes{};

  static Ip from_v4(std::uint32_t host_order) noexcept;
  static Ip from_v6(const std::array<std::uint8_t, 16>& bytes) noexcept;
  // Parses "10.0.3.7", "fd00::1" or "::ffff:10.0.3.7"; nullopt if malformed.
  static std::optional<Ip> parse(std::string_view text) noexcept;

  bool is_v4() const noexcept;  // true for IPv4-mapped addresses
  std::string to_string() const;  // dotted quad for IPv4, RFC 5952 for IPv6
  friend bool operator==(const Ip&, const Ip&) = default;
};

// An address with its prefix length counted in the address's own family
// (0-32 for IPv4, 0-128 for IPv6).
struct Prefix {
  Ip network;
  std::uint8_t length = 0;

  // Parses "10.0.4.0/23" or "fd00:5::/64". Host bits set, a length out of
  // range or a malformed address yield an error text saying what was expected.
  struct Parsed;
  static Parsed parse(std::string_view text);
  // The prefix of `length` (own family, clamped to its maximum) holding `ip`,
  // host bits cleared: how a site's address widens to its subnet.
  static Prefix containing(const Ip& ip, std::uint8_t length) noexcept;

  std::uint8_t length128() const noexcept;  // length in the 128-bit space
  bool contains(const Ip& ip) const noexcept;
  std::string to_string() const;
  friend bool operator==(const Prefix&, const Prefix&) = default;
};

struct Prefix::Parsed {
  std::optional<Prefix> prefix;
  std::string error;  // empty when prefix is set
};

}  // namespace dvpn::hostsdb
