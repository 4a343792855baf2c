// IpEndpoint: ADDRESS:PORT parsing with its error texts, and the one spelling.
#include <doctest/doctest.h>

#include "ip_endpoint.hpp"

using dvpn::hostsdb::host_port_text;
using dvpn::hostsdb::IpEndpoint;

namespace {

IpEndpoint endpoint(std::string_view text) {
  auto parsed = IpEndpoint::parse(text);
  REQUIRE_MESSAGE(parsed.endpoint, text);
  CHECK(parsed.error.empty());
  return *parsed.endpoint;
}

// The error without the ", expected ADDRESS:PORT ..." every one of them ends with.
std::string error_of(std::string_view text) {
  constexpr std::string_view expected = ", expected ADDRESS:PORT like 10.0.0.1:7007 or [::]:7007";
  auto parsed = IpEndpoint::parse(text);
  CHECK_FALSE(parsed.endpoint);
  REQUIRE_MESSAGE(parsed.error.ends_with(expected), parsed.error);
  return parsed.error.substr(0, parsed.error.size() - expected.size());
}

}  // namespace

TEST_CASE("IPv4 and bracketed IPv6 endpoints parse and print back the same") {
  const auto v4 = endpoint("0.0.0.0:7007");
  CHECK(v4.ip.is_v4());
  CHECK(v4.ip.to_string() == "0.0.0.0");
  CHECK(v4.port == 7007);
  CHECK(v4.to_string() == "0.0.0.0:7007");

  const auto v6 = endpoint("[::]:7007");
  CHECK_FALSE(v6.ip.is_v4());
  CHECK(v6.ip.to_string() == "::");
  CHECK(v6.to_string() == "[::]:7007");

  CHECK(endpoint("[fd00::1]:65535").to_string() == "[fd00::1]:65535");
  CHECK(endpoint("127.0.0.1:1").port == 1);
}

TEST_CASE("an endpoint prints in canonical form") {
  CHECK(endpoint("[FD00:0:0::1]:80").to_string() == "[fd00::1]:80");
  CHECK(endpoint("10.0.0.1:0080").to_string() == "10.0.0.1:80");
  // An IPv4-mapped address is stored and printed as the IPv4 address it is.
  CHECK(IpEndpoint{*dvpn::hostsdb::Ip::parse("::ffff:10.0.0.1"), 80}.to_string() == "10.0.0.1:80");
  CHECK(endpoint("10.0.0.1:80") == IpEndpoint{*dvpn::hostsdb::Ip::parse("10.0.0.1"), 80});
}

TEST_CASE("a missing port or one out of range is refused") {
  CHECK(error_of("0.0.0.0") == "missing \":PORT\" in \"0.0.0.0\"");
  CHECK(error_of("7007") == "missing \":PORT\" in \"7007\"");
  CHECK(error_of("0.0.0.0:") == "empty port after \":\"");
  CHECK(error_of("[::1]") == "missing \":PORT\" after \"]\"");
  CHECK(error_of("[::1]7007") == "missing \":PORT\" after \"]\"");
  CHECK(error_of("0.0.0.0:0") == "port \"0\" out of range 1-65535");
  CHECK(error_of("0.0.0.0:65536") == "port \"65536\" out of range 1-65535");
  CHECK(error_of("[::]:65536") == "port \"65536\" out of range 1-65535");
  CHECK(error_of("0.0.0.0:99999999999999999999") == "port \"99999999999999999999\" out of range 1-65535");
  for (const char* sign : {"0.0.0.0:-1", "0.0.0.0:+80", "0.0.0.0:80x", "0.0.0.0:http"}) {
    CAPTURE(sign);
    CHECK(error_of(sign).ends_with("is not a number"));
  }
}

TEST_CASE("an endpoint needs an address: \":7007\" is refused") {
  CHECK(error_of(":7007") == "missing the address before \":\"");
  CHECK(error_of("") == "missing \":PORT\" in \"\"");
  CHECK(error_of("[]:7007") == "\"\" is not an IP address");
}

TEST_CASE("IPv6 only in brackets, IPv4 never") {
  CHECK(error_of("::1:7007") == "an IPv6 address must be in brackets");
  CHECK(error_of("::ffff:1.2.3.4:7007") == "an IPv6 address must be in brackets");
  CHECK(error_of("[::1:7007") == "missing \"]\" after an IPv6 address");
  CHECK(error_of("[1.2.3.4]:7007") == "brackets must hold an IPv6 address");
  CHECK(error_of("[::ffff:1.2.3.4]:7007") == "brackets must hold an IPv6 address");
}

TEST_CASE("names and garbage are refused, quoted") {
  CHECK(error_of("localhost:7007") == "\"localhost\" is not an IP address");
  CHECK(error_of("[localhost]:7007") == "\"localhost\" is not an IP address");
  CHECK(error_of("1.2.3:7007") == "\"1.2.3\" is not an IP address");
  CHECK(error_of("[fe80::1%eth0]:7007") == "\"fe80::1%eth0\" is not an IP address");
  CHECK(error_of("\x01\xff:1") == "\"\\x01\\xff\" is not an IP address");
}

TEST_CASE("host_port_text brackets any host holding a colon") {
  CHECK(host_port_text("10.0.0.1", 22) == "10.0.0.1:22");
  CHECK(host_port_text("gw.example", 22) == "gw.example:22");
  CHECK(host_port_text("fd00::1", 22) == "[fd00::1]:22");
  CHECK(host_port_text("fe80::1%lan0", 5555) == "[fe80::1%lan0]:5555");
}
