// dvpn-gate's parse and subnet check: the only thing between a stolen gateway
// key and the far end's whole network, so the grammar is pinned down here.
#include <doctest/doctest.h>

#include <array>
#include <string_view>

#include "gate.hpp"

using dvpn::chroot::decide;
using dvpn::chroot::parse_command;
using dvpn::chroot::parse_subnets;

namespace {

constexpr std::array<std::string_view, 2> site_subnets{"10.20.0.0/24", "fd00:30::/64"};

std::string allowed_target(std::string_view command) {
  auto verdict = decide(command, site_subnets);
  if (!verdict.destination) return "denied";
  return verdict.destination->host_text() + " " + verdict.destination->port_text();
}

}  // namespace

TEST_CASE("parse_command accepts nc with an IPv4 or IPv6 literal and a port") {
  auto v4 = parse_command("nc 10.20.0.7 80");
  REQUIRE(v4.destination);
  CHECK(v4.destination->host_text() == "10.20.0.7");
  CHECK(v4.destination->port == 80);

  auto v6 = parse_command("nc fd00:30::7 443");
  REQUIRE(v6.destination);
  CHECK(v6.destination->host_text() == "fd00:30::7");
  CHECK(v6.destination->port == 443);

  CHECK(parse_command("nc 10.20.0.7 65535").destination);
  CHECK(parse_command("  nc\t10.20.0.7   1 ").destination);
}

TEST_CASE("parse_command refuses everything else") {
  for (std::string_view bad : {
           "", "nc", "nc 10.20.0.7", "nc 10.20.0.7 80 extra", "ls", "sh -c id",
           "/bin/nc 10.20.0.7 80", "NC 10.20.0.7 80", "nc -e /bin/sh 10.20.0.7 80",
           "nc host.example 80", "nc [fd00:30::7] 80", "nc fe80::1%eth0 80",
           "nc 10.20.0.7 0", "nc 10.20.0.7 65536", "nc 10.20.0.7 080", "nc 10.20.0.7 http",
           "nc 10.20.0.7 +80", "nc 10.20.0.7 80;id", "nc 10.20.0.7;id 80",
           "nc '10.20.0.7' 80", "nc 10.20.0.7 $PORT", "nc 10.20.0.7 80\nid",
           "nc 010.20.0.7 80", "nc 10.20.7 80", "nc 0x0a.20.0.7 80", "nc 10.20.0.7:80 80"}) {
    CAPTURE(bad);
    auto parsed = parse_command(bad);
    CHECK_FALSE(parsed.destination);
    CHECK_FALSE(parsed.error.empty());
  }
}

TEST_CASE("parse_command errors quote the input on one line") {
  auto parsed = parse_command("nc 10.20.0.7 80\nid");
  CHECK(parsed.error.find('\n') == std::string::npos);
  CHECK(parse_command("nc nowhere 80").error.find("\"nowhere\"") != std::string::npos);
}

TEST_CASE("decide allows only destinations inside the key's subnets") {
  CHECK(allowed_target("nc 10.20.0.0 22") == "10.20.0.0 22");
  CHECK(allowed_target("nc 10.20.0.255 22") == "10.20.0.255 22");
  CHECK(allowed_target("nc fd00:30::ffff 22") == "fd00:30::ffff 22");
  CHECK(allowed_target("nc fd00:30:0:0:ffff:ffff:ffff:ffff 22") ==
        "fd00:30::ffff:ffff:ffff:ffff 22");
  CHECK(allowed_target("nc 10.20.1.0 22") == "denied");
  CHECK(allowed_target("nc 10.19.255.255 22") == "denied");
  CHECK(allowed_target("nc 127.0.0.1 22") == "denied");
  CHECK(allowed_target("nc fd00:31::1 22") == "denied");
  CHECK(allowed_target("nc ::1 22") == "denied");
}

TEST_CASE("decide hands nc the canonical spelling it checked") {
  // An IPv4-mapped IPv6 literal is the IPv4 destination it maps to.
  CHECK(allowed_target("nc ::ffff:10.20.0.9 80") == "10.20.0.9 80");
  CHECK(allowed_target("nc ::ffff:10.21.0.9 80") == "denied");
  CHECK(allowed_target("nc FD00:0030:0000::0001 80") == "fd00:30::1 80");
}

TEST_CASE("an IPv6 subnet never opens IPv4 destinations, nor the reverse") {
  std::array<std::string_view, 1> all_v6{"::/0"};
  CHECK_FALSE(decide("nc 10.20.0.7 80", all_v6).destination);
  CHECK(decide("nc 2001:db8::1 80", all_v6).destination);
  std::array<std::string_view, 1> all_v4{"0.0.0.0/0"};
  CHECK(decide("nc 192.0.2.1 80", all_v4).destination);
  CHECK_FALSE(decide("nc 2001:db8::1 80", all_v4).destination);
}

TEST_CASE("a key with bad or no subnets denies everything") {
  std::array<std::string_view, 2> host_bits{"10.20.0.0/24", "10.30.0.1/24"};
  auto verdict = decide("nc 10.20.0.7 80", host_bits);
  CHECK_FALSE(verdict.destination);
  CHECK(verdict.reason.find("\"10.30.0.1/24\"") != std::string::npos);
  CHECK_FALSE(decide("nc 10.20.0.7 80", std::span<const std::string_view>{}).destination);
}

TEST_CASE("denial reasons name the refused destination") {
  auto verdict = decide("nc 10.99.0.1 80", site_subnets);
  CHECK(verdict.reason == "denied: 10.99.0.1 is outside this key's subnets");
}

TEST_CASE("parse_subnets returns canonical prefixes") {
  std::array<std::string_view, 3> args{"10.20.0.0/24", "FD00:30:0::/64", "192.0.2.1/32"};
  auto parsed = parse_subnets(args);
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.subnets.size() == 3);
  CHECK(parsed.subnets[1].to_string() == "fd00:30::/64");
  std::array<std::string_view, 1> bad{"10.20.0.0"};
  CHECK_FALSE(parse_subnets(bad).error.empty());
}
