#include "gate.hpp"

#include <algorithm>

namespace dvpn::chroot {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Splits on runs of blanks; any other byte (quotes, ';', '$', newline...) stays
// inside a field, where the address and port parsers refuse it.
std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_blank(s[i])) ++i;
    if (i > start) fields.push_back(s.substr(start, i - start));
  }
  return fields;
}

// Decimal 1..max, no sign, no leading zero.
std::optional<unsigned> parse_number(std::string_view s, unsigned max) noexcept {
  if (s.empty() || s.size() > 5 || s[0] == '0') return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
  auto value = parse_number(s, 65535);
  if (!value) return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

std::string quoted(std::string_view s) {
  // Keep the reason on one line whatever the client sent.
  std::string out = "\"";
  for (char c : s.substr(0, 200)) out += (c == '\n' || c == '\r' || c == '\0') ? '?' : c;
  if (s.size() > 200) out += "...";
  return out + "\"";
}

hostsdb::Prefix cidr(std::string_view text) { return *hostsdb::Prefix::parse(text).prefix; }

// The address classes of gate.hpp's special_refusal. Openable ones are
// allowed by a key subnet that lies inside them.
struct SpecialRange {
  hostsdb::Prefix prefix;
  std::string_view what;
  bool openable;
  bool embeds_v4;  // the last 32 bits are the IPv4 address reached
};

const std::vector<SpecialRange>& special_ranges() {
  static const std::vector<SpecialRange> ranges{
      {cidr("224.0.0.0/4"), "a multicast address", false, false},
      {cidr("ff00::/8"), "a multicast address", false, false},
      {cidr("127.0.0.0/8"), "a loopback address", true, false},
      {cidr("::1/128"), "a loopback address", true, false},
      // connect() to 0.0.0.0 or :: reaches the host itself.
      {cidr("0.0.0.0/8"), "an unspecified (this-host) address", true, false},
      {cidr("::/128"), "an unspecified (this-host) address", true, false},
      {cidr("64:ff9b::/96"), "a NAT64 address", true, true},
      {cidr("64:ff9b:1::/48"), "a local-use NAT64 address", true, true},
      // After :: and ::1 above, so those keep their own names.
      {cidr("::/96"), "an IPv4-compatible address", true, true},
  };
  return ranges;
}

const hostsdb::Ip& limited_broadcast() {
  static const hostsdb::Ip ip = hostsdb::Ip::from_v4(0xffffffff);
  return ip;
}

hostsdb::Ip embedded_v4(const hostsdb::Ip& ip) {
  return hostsdb::Ip::from_v4(static_cast<std::uint32_t>(ip.bytes[12]) << 24 |
                              static_cast<std::uint32_t>(ip.bytes[13]) << 16 |
                              static_cast<std::uint32_t>(ip.bytes[14]) << 8 | ip.bytes[15]);
}

// True if a subnet of the key that contains `host` lies inside `range`.
bool named_inside(const hostsdb::Ip& host, std::span<const hostsdb::Prefix> subnets,
                  const hostsdb::Prefix& range) noexcept {
  for (const auto& subnet : subnets)
    if (subnet.network.is_v4() == host.is_v4() && subnet.contains(host) &&
        subnet.length128() >= range.length128() && range.contains(subnet.network))
      return true;
  return false;
}

}  // namespace

ParsedCommand parse_command(std::string_view command) {
  auto fields = split_fields(command);
  if (fields.size() != 3 || fields[0] != "nc")
    return {std::nullopt, "expected \"nc HOST PORT\", got " + quoted(command)};
  auto host = hostsdb::Ip::parse(fields[1]);
  if (!host)
    return {std::nullopt, "expected an IPv4 or IPv6 address, got " + quoted(fields[1])};
  auto port = parse_port(fields[2]);
  if (!port) return {std::nullopt, "expected a port 1-65535, got " + quoted(fields[2])};
  return {Destination{*host, *port}, {}};
}

ParsedSubnets parse_subnets(std::span<const std::string_view> args) {
  ParsedSubnets out;
  for (auto arg : args) {
    auto parsed = hostsdb::Prefix::parse(arg);
    if (!parsed.prefix) return {{}, "bad subnet " + quoted(arg) + ": " + parsed.error};
    out.subnets.push_back(*parsed.prefix);
  }
  return out;
}

GateArguments parse_arguments(std::span<const std::string_view> args) {
  GateArguments out;
  std::size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    std::string_view arg = args[i];
    std::string_view value;
    constexpr std::string_view timeout_option = "--connect-timeout";
    if (arg == timeout_option) {
      if (i + 1 == args.size()) return {{}, {}, "option --connect-timeout needs a value"};
      value = args[++i];
    } else if (arg.starts_with(timeout_option) && arg[timeout_option.size()] == '=') {
      value = arg.substr(timeout_option.size() + 1);
    } else {
      return {{}, {}, "unknown option " + quoted(arg) + ", expected --connect-timeout SECONDS"};
    }
    auto seconds = parse_number(value, 3600);
    if (!seconds)
      return {{}, {}, "bad --connect-timeout " + quoted(value) + ", expected seconds 1-3600"};
    out.connect_timeout = std::chrono::seconds{*seconds};
  }
  out.subnets.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

bool allowed(const hostsdb::Ip& host, std::span<const hostsdb::Prefix> subnets) noexcept {
  for (const auto& subnet : subnets)
    if (subnet.network.is_v4() == host.is_v4() && subnet.contains(host)) return true;
  return false;
}

std::optional<std::string> special_refusal(const hostsdb::Ip& host,
                                           std::span<const hostsdb::Prefix> subnets,
                                           const HostAddresses& local) {
  // Never TCP destinations, whatever the subnets say.
  for (const auto& range : special_ranges())
    if (!range.openable && range.prefix.contains(host)) return std::string(range.what);
  if (host == limited_broadcast() ||
      std::find(local.broadcasts.begin(), local.broadcasts.end(), host) != local.broadcasts.end())
    return "a broadcast address";

  // Open only to a subnet inside the range (see gate.hpp: "named explicitly").
  for (const auto& range : special_ranges()) {
    if (!range.openable || !range.prefix.contains(host)) continue;
    if (named_inside(host, subnets, range.prefix)) return std::nullopt;
    std::string why = std::string(range.what) + " (" + range.prefix.to_string() + ")";
    if (range.embeds_v4) why += " reaching IPv4 " + embedded_v4(host).to_string();
    return why + "; only a subnet inside " + range.prefix.to_string() + " opens it";
  }
  if (std::find(local.own.begin(), local.own.end(), host) != local.own.end()) {
    const auto self = hostsdb::Prefix::containing(host, 128);
    if (named_inside(host, subnets, self)) return std::nullopt;
    return "an address of this gateway itself, not of its LAN; only the subnet " +
           self.to_string() + " opens it";
  }
  return std::nullopt;
}

Verdict decide(std::string_view command, std::span<const std::string_view> subnet_args,
               const HostAddresses& local) {
  auto subnets = parse_subnets(subnet_args);
  if (!subnets.error.empty()) return {std::nullopt, "denied: key misconfigured: " + subnets.error};
  if (subnets.subnets.empty()) return {std::nullopt, "denied: key has no subnets"};
  auto parsed = parse_command(command);
  if (!parsed.destination) return {std::nullopt, "denied: " + parsed.error};
  const auto& host = parsed.destination->host;
  if (!allowed(host, subnets.subnets))
    return {std::nullopt,
            "denied: " + parsed.destination->host_text() + " is outside this key's subnets"};
  if (auto why = special_refusal(host, subnets.subnets, local))
    return {std::nullopt, "denied: " + parsed.destination->host_text() + " is " + *why};
  return {parsed.destination, {}};
}

}  // namespace dvpn::chroot
