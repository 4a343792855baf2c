// Ip and Prefix: parsing, canonical text, IPv4-mapped storage.
#include <arpa/inet.h>

#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "ip.hpp"

using dvpn::hostsdb::Ip;
using dvpn::hostsdb::Prefix;

namespace {

Ip ip(std::string_view text) {
  auto parsed = Ip::parse(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

std::string prefix_error(std::string_view text) {
  auto parsed = Prefix::parse(text);
  CHECK_FALSE(parsed.prefix);
  return parsed.error;
}

}  // namespace

TEST_CASE("IPv4 is stored as an IPv4-mapped IPv6 address") {
  auto a = ip("10.0.3.7");
  CHECK(a.is_v4());
  CHECK(a == Ip::from_v4(0x0a000307));
  CHECK(a == ip("::ffff:10.0.3.7"));
  CHECK(a == ip("::FFFF:a00:307"));
  CHECK(a.to_string() == "10.0.3.7");
  CHECK(a.bytes[10] == 0xff);
  CHECK(a.bytes[11] == 0xff);
  CHECK(a.bytes[15] == 7);
  CHECK_FALSE(ip("fd00::1").is_v4());
  CHECK_FALSE(ip("::10.0.3.7").is_v4());  // IPv4-compatible, not mapped
}

TEST_CASE("malformed addresses are refused") {
  for (const char* bad : {"", "10.0.3", "10.0.3.300", "10.0.3.7.1", "10..3.7", "10.0.3.07",
                          "10.0.3.7 ", " 10.0.3.7", "-1.0.0.0", "1.2.3.4/24", ":", ":::",
                          "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "fe80::1%eth0", "g::1",
                          "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5",
                          "1:2:3:4:5:6:7:1.2.3.4", "1:", ":1", "1:2:3:4:5:6:7:"}) {
    CHECK_MESSAGE(!Ip::parse(bad), bad);
  }
}

TEST_CASE("IPv6 text is canonical per RFC 5952") {
  CHECK(ip("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string() == "2001:db8::1");
  CHECK(ip("2001:db8:0:1:1:1:1:1").to_string() == "2001:db8:0:1:1:1:1:1");  // one zero: no ::
  CHECK(ip("2001:0:0:1:0:0:0:1").to_string() == "2001:0:0:1::1");           // longest run
  CHECK(ip("2001:db8:0:0:1:0:0:1").to_string() == "2001:db8::1:0:0:1");     // first of equals
  CHECK(ip("::").to_string() == "::");
  CHECK(ip("::1").to_string() == "::1");
  CHECK(ip("fd00:5::").to_string() == "fd00:5::");
  CHECK(ip("1::2:3:4:5:6:7").to_string() == "1:0:2:3:4:5:6:7");  // "::" for one group parses
}

TEST_CASE("Ip::parse agrees with inet_pton on random text") {
  std::mt19937 rng(12345);
  const std::string alphabet = "0123456789abcdefABCDEF:.:::..0";
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    auto length = std::uniform_int_distribution<int>(0, 24)(rng);
    for (int j = 0; j < length; ++j)
      text += alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    unsigned char want[16];
    bool has_colon = text.find(':') != std::string::npos;
    bool ok = inet_pton(has_colon ? AF_INET6 : AF_INET, text.c_str(), want) == 1;
    auto got = Ip::parse(text);
    REQUIRE_MESSAGE(got.has_value() == ok, text);
    if (!ok) continue;
    if (has_colon) {
      CHECK(std::memcmp(got->bytes.data(), want, 16) == 0);
    } else {
      CHECK(std::memcmp(got->bytes.data() + 12, want, 4) == 0);
    }
    // to_string round-trips to the same address.
    CHECK(Ip::parse(got->to_string()) == got);
  }
}

TEST_CASE("prefixes parse with their length in their own family") {
  auto p = Prefix::parse("10.0.4.0/23");
  REQUIRE(p.prefix);
  CHECK(p.error.empty());
  CHECK(p.prefix->length == 23);
  CHECK(p.prefix->length128() == 119);
  CHECK(p.prefix->to_string() == "10.0.4.0/23");
  CHECK(p.prefix->contains(ip("10.0.5.255")));
  CHECK(p.prefix->contains(ip("::ffff:10.0.4.1")));
  CHECK_FALSE(p.prefix->contains(ip("10.0.6.0")));

  auto v6 = Prefix::parse("fd00:5::/64").prefix;
  REQUIRE(v6);
  CHECK(v6->length == 64);
  CHECK(v6->length128() == 64);
  CHECK(v6->contains(ip("fd00:5::ffff:1")));
  CHECK_FALSE(v6->contains(ip("fd00:6::1")));

  CHECK(Prefix::parse("0.0.0.0/0").prefix->contains(ip("255.1.2.3")));
  CHECK_FALSE(Prefix::parse("0.0.0.0/0").prefix->contains(ip("fd00::1")));
  CHECK(Prefix::parse("::/0").prefix->contains(ip("10.1.2.3")));
  CHECK(Prefix::parse("10.1.2.3/32").prefix->contains(ip("10.1.2.3")));
  CHECK(Prefix::parse("fd00::1/128").prefix->to_string() == "fd00::1/128");
}

TEST_CASE("an IPv4-mapped prefix in IPv6 syntax equals its IPv4 spelling") {
  auto mapped = Prefix::parse("::ffff:10.0.0.0/104").prefix;
  REQUIRE(mapped);
  CHECK(*mapped == *Prefix::parse("10.0.0.0/8").prefix);
  CHECK(mapped->to_string() == "10.0.0.0/8");
  // Shorter than /96 it covers more than IPv4: an IPv6 prefix.
  auto wide = Prefix::parse("::/80").prefix;
  REQUIRE(wide);
  CHECK(wide->length == 80);
  CHECK(wide->contains(ip("10.0.0.1")));
}

TEST_CASE("bad prefixes say what was expected") {
  CHECK(prefix_error("10.0.4.1/23") == "host bits set, expected 10.0.4.0/23");
  CHECK(prefix_error("fd00:5::1/64") == "host bits set, expected fd00:5::/64");
  CHECK(prefix_error("10.0.4.0/33") == "prefix length 33 out of range, expected 0-32");
  CHECK(prefix_error("fd00::/129") == "prefix length 129 out of range, expected 0-128");
  CHECK(prefix_error("10.0.4.0/99999999999999999999") ==
        "prefix length 99999999999999999999 out of range, expected 0-32");
  CHECK(prefix_error("10.0.4.0") == "missing \"/LENGTH\", expected a CIDR such as 10.0.4.0/23");
  CHECK(prefix_error("10.0.4/24") == "expected an IPv4 or IPv6 address before \"/\"");
  CHECK(prefix_error("10.0.4.0/") == "expected a prefix length after \"/\"");
  CHECK(prefix_error("10.0.4.0/-1") == "expected a prefix length after \"/\"");
  CHECK(prefix_error("10.0.4.0/2 4") == "expected a prefix length after \"/\"");
}

TEST_CASE("Prefix::containing widens an address and clears host bits") {
  CHECK(Prefix::containing(ip("10.0.3.1"), 24).to_string() == "10.0.3.0/24");
  CHECK(Prefix::containing(ip("10.0.3.1"), 16).to_string() == "10.0.0.0/16");
  CHECK(Prefix::containing(ip("10.0.3.1"), 32).to_string() == "10.0.3.1/32");
  CHECK(Prefix::containing(ip("10.0.3.1"), 0).to_string() == "0.0.0.0/0");
  CHECK(Prefix::containing(ip("10.0.3.1"), 64).to_string() == "10.0.3.1/32");  // clamped
  CHECK(Prefix::containing(ip("fd00:5::1"), 64).to_string() == "fd00:5::/64");
  CHECK(Prefix::containing(ip("fd00:5:1:2:3::1"), 48).to_string() == "fd00:5:1::/48");
  CHECK(Prefix::containing(ip("fd00:5::1"), 200).to_string() == "fd00:5::1/128");
}
