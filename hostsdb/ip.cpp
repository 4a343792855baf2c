#include "ip.hpp"

#include <algorithm>
#include <charconv>

namespace dvpn::hostsdb {
namespace {

// Hand-written rather than inet_pton: no NUL-terminated copy, no socket
// headers, and the parser stays a pure function a fuzzer can drive.

// A decimal 0-255 without leading zeros ("010" would be octal to some tools,
// so it is refused rather than guessed), like glibc's inet_pton.
std::optional<std::uint8_t> parse_octet(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 255) return std::nullopt;
  return static_cast<std::uint8_t>(value);
}

bool parse_v4(std::string_view s, std::uint8_t* out) noexcept {
  for (int i = 0; i < 4; ++i) {
    auto dot = s.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) return false;
    auto octet = parse_octet(s.substr(0, dot));
    if (!octet) return false;
    out[i] = *octet;
    s = i < 3 ? s.substr(dot + 1) : std::string_view{};
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4291 section 2.2 text forms: eight groups, one "::" for a run of zero
// groups, and an optional dotted quad as the last 32 bits. Zone ids ("%eth0")
// are refused: a hosts map names addresses, not interfaces.
bool parse_v6(std::string_view s, std::array<std::uint8_t, 16>& out) noexcept {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;  // index in `groups` where "::" stands
  if (s.starts_with("::")) {
    gap = 0;
    s.remove_prefix(2);
  } else if (s.starts_with(':')) {
    return false;
  }
  while (!s.empty()) {
    if (count == 8) return false;
    auto colon = s.find(':');
    auto field = s.substr(0, colon);
    if (field.find('.') != std::string_view::npos) {
      // A dotted quad may only end the address and fills two groups.
      if (colon != std::string_view::npos || count > 6) return false;
      std::uint8_t v4[4];
      if (!parse_v4(field, v4)) return false;
      groups[count++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
      break;
    }
    if (field.empty() || field.size() > 4) return false;
    unsigned value = 0;
    for (char c : field) {
      int h = hex_value(c);
      if (h < 0) return false;
      value = value << 4 | static_cast<unsigned>(h);
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
    if (s.starts_with(':')) {
      if (gap >= 0) return false;  // a second "::"
      gap = count;
      s.remove_prefix(1);
    } else if (s.empty()) {
      return false;  // trailing single ':'
    }
  }
  if (gap < 0 && count != 8) return false;
  if (gap >= 0 && count == 8) return false;  // "::" must stand for at least one group
  std::array<std::uint16_t, 8> full{};
  if (gap < 0) {
    full = groups;
  } else {
    int tail = count - gap;
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
  }
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(full[i] & 0xff);
  }
  return true;
}

}  // namespace

Ip Ip::from_v4(std::uint32_t host_order) noexcept {
  Ip ip;
  ip.bytes[10] = 0xff;
  ip.bytes[11] = 0xff;
  ip.bytes[12] = static_cast<std::uint8_t>(host_order >> 24);
  ip.bytes[13] = static_cast<std::uint8_t>(host_order >> 16);
  ip.bytes[14] = static_cast<std::uint8_t>(host_order >> 8);
  ip.bytes[15] = static_cast<std::uint8_t>(host_order);
  return ip;
}

Ip Ip::from_v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  Ip ip;
  ip.bytes = bytes;
  return ip;
}

std::optional<Ip> Ip::parse(std::string_view text) noexcept {
  Ip ip;
  if (text.find(':') == std::string_view::npos) {
    std::uint8_t v4[4];
    if (!parse_v4(text, v4)) return std::nullopt;
    return from_v4(static_cast<std::uint32_t>(v4[0]) << 24 | v4[1] << 16 | v4[2] << 8 | v4[3]);
  }
  if (!parse_v6(text, ip.bytes)) return std::nullopt;
  return ip;
}

bool Ip::is_v4() const noexcept {
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0) return false;
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string Ip::to_string() const {
  std::string out;
  if (is_v4()) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) out += '.';
      out += std::to_string(bytes[i]);
    }
    return out;
  }
  std::array<unsigned, 8> groups{};
  for (int i = 0; i < 8; ++i) groups[i] = bytes[2 * i] << 8 | bytes[2 * i + 1];
  // RFC 5952: "::" replaces the first longest run of two or more zero groups.
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  char hex[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    auto [end, ec] = std::to_chars(hex, hex + sizeof hex, groups[i], 16);
    out.append(hex, end);
  }
  return out;
}

}  // namespace dvpn::hostsdb

namespace dvpn::hostsdb {
namespace {

// Clears every bit past the first `length128` bits.
Ip masked(Ip ip, int length128) noexcept {
  for (int i = 0; i < 16; ++i) {
    int keep = length128 - 8 * i;  // bits of this byte that stay
    if (keep >= 8) continue;
    ip.bytes[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
  }
  return ip;
}

}  // namespace

Prefix::Parsed Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return {std::nullopt, "missing \"/LENGTH\", expected a CIDR such as 10.0.4.0/23"};
  auto address = text.substr(0, slash);
  auto digits = text.substr(slash + 1);
  auto ip = Ip::parse(address);
  if (!ip) return {std::nullopt, "expected an IPv4 or IPv6 address before \"/\""};
  unsigned length = 0;
  if (digits.empty()) return {std::nullopt, "expected a prefix length after \"/\""};
  for (char c : digits) {
    if (c < '0' || c > '9') return {std::nullopt, "expected a prefix length after \"/\""};
    if (length < 1000) length = length * 10 + static_cast<unsigned>(c - '0');
  }
  // An IPv4-mapped address written in IPv6 syntax counts its length in the
  // 128-bit space; bring it back to an IPv4 prefix so both spellings of one
  // subnet compare equal. Below /96 the masked network is no longer mapped.
  bool v6_syntax = address.find(':') != std::string_view::npos;
  unsigned max = ip->is_v4() && !v6_syntax ? 32 : 128;
  if (length > max) {
    return {std::nullopt, "prefix length " + std::string(digits) + " out of range, expected 0-" +
                              std::to_string(max)};
  }
  unsigned length128 = max == 32 ? length + 96 : length;
  Prefix prefix;
  prefix.network = masked(*ip, static_cast<int>(length128));
  prefix.length = static_cast<std::uint8_t>(
      prefix.network.is_v4() && length128 >= 96 ? length128 - 96 : length128);
  if (prefix.network != *ip) return {std::nullopt, "host bits set, expected " + prefix.to_string()};
  return {prefix, {}};
}

Prefix Prefix::containing(const Ip& ip, std::uint8_t length) noexcept {
  bool v4 = ip.is_v4();
  int own = std::min<int>(length, v4 ? 32 : 128);
  Prefix prefix;
  prefix.network = masked(ip, v4 ? own + 96 : own);
  prefix.length = static_cast<std::uint8_t>(own);
  return prefix;
}

std::uint8_t Prefix::length128() const noexcept {
  return static_cast<std::uint8_t>(network.is_v4() ? length + 96 : length);
}

bool Prefix::contains(const Ip& ip) const noexcept {
  return masked(ip, length128()) == network;
}

std::string Prefix::to_string() const {
  return network.to_string() + "/" + std::to_string(length);
}

}  // namespace dvpn::hostsdb
