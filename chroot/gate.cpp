#include "gate.hpp"

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

std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
  if (s.empty() || s.size() > 5 || s[0] == '0') return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string quoted(std::string_view s) {
  // Keep the reason on one line whatever the client sent.
  std::string out = "\"";
  for (char c : s.substr(0, 200)) out += (c == '\n' || c == '\r' || c == '\0') ? '?' : c;
  if (s.size() > 200) out += "...";
  return out + "\"";
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

bool allowed(const hostsdb::Ip& host, std::span<const hostsdb::Prefix> subnets) noexcept {
  for (const auto& subnet : subnets)
    if (subnet.network.is_v4() == host.is_v4() && subnet.contains(host)) return true;
  return false;
}

Verdict decide(std::string_view command, std::span<const std::string_view> subnet_args) {
  auto subnets = parse_subnets(subnet_args);
  if (!subnets.error.empty()) return {std::nullopt, "denied: key misconfigured: " + subnets.error};
  if (subnets.subnets.empty()) return {std::nullopt, "denied: key has no subnets"};
  auto parsed = parse_command(command);
  if (!parsed.destination) return {std::nullopt, "denied: " + parsed.error};
  if (!allowed(parsed.destination->host, subnets.subnets))
    return {std::nullopt,
            "denied: " + parsed.destination->host_text() + " is outside this key's subnets"};
  return {parsed.destination, {}};
}

}  // namespace dvpn::chroot
