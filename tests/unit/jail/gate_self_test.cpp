// dvpn-gate's refusal of destinations that leave the LAN although a subnet of
// the key contains them (gate.hpp, special_refusal): the gateway itself, any
// loopback or unspecified address, IPv4 through NAT64 or IPv4-compatible
// IPv6 forms, multicast and broadcast; and the one way to open the openable
// ones, a key subnet that lies inside their range. Also the gate's options
// (parse_arguments: --connect-timeout).
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "gate.hpp"

using dvpn::chroot::decide;
using dvpn::chroot::HostAddresses;
using dvpn::chroot::parse_arguments;
using dvpn::hostsdb::Ip;

namespace {

Ip ip(std::string_view text) { return *Ip::parse(text); }

// A far gateway as in the jail tests: lo, lan0 10.20.0.1/24 + fd00:20::1/64,
// a second LAN 10.99.0.1/24 and its uplink 198.51.100.2.
HostAddresses gateway() {
  HostAddresses h;
  for (auto a : {"127.0.0.1", "::1", "10.20.0.1", "fd00:20::1", "fe80::1", "10.99.0.1",
                 "198.51.100.2"})
    h.own.push_back(ip(a));
  for (auto b : {"10.20.0.255", "10.99.0.255", "198.51.100.255"}) h.broadcasts.push_back(ip(b));
  return h;
}

// "allowed" or the reason, for `nc HOST 22` under `subnets` on gateway().
template <std::size_t N>
std::string verdict(std::string_view host, const std::array<std::string_view, N>& subnets) {
  auto v = decide("nc " + std::string(host) + " 22", subnets, gateway());
  return v.destination ? "allowed" : v.reason;
}

bool denied(std::string_view host, const auto& subnets) { return verdict(host, subnets) != "allowed"; }

constexpr std::array<std::string_view, 2> site{"10.20.0.0/24", "fd00:20::/64"};
constexpr std::array<std::string_view, 2> everything{"0.0.0.0/0", "::/0"};

}  // namespace

TEST_CASE("the gateway's own LAN address is refused, its LAN neighbours are not") {
  CHECK(verdict("10.20.0.1", site) ==
        "denied: 10.20.0.1 is an address of this gateway itself, not of its LAN; only the subnet "
        "10.20.0.1/32 opens it");
  CHECK(denied("fd00:20::1", site));
  CHECK(verdict("10.20.0.2", site) == "allowed");
  CHECK(verdict("fd00:20::2", site) == "allowed");
  // Every interface counts, not only the one on the key's LAN.
  CHECK(denied("10.99.0.1", everything));
  CHECK(denied("198.51.100.2", everything));
  CHECK(verdict("198.51.100.3", everything) == "allowed");
  // The mapped spelling is the same IPv4 address.
  CHECK(denied("::ffff:10.20.0.1", site));
}

TEST_CASE("an own address is opened only by its own /32 or /128") {
  std::array<std::string_view, 3> with_self{"10.20.0.0/24", "10.20.0.1/32", "fd00:20::1/128"};
  CHECK(verdict("10.20.0.1", with_self) == "allowed");
  CHECK(verdict("fd00:20::1", with_self) == "allowed");
  std::array<std::string_view, 2> wider{"10.20.0.0/31", "10.20.0.0/24"};
  CHECK(denied("10.20.0.1", wider));
}

TEST_CASE("loopback is refused, even with no host addresses known, unless named") {
  for (auto host : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    CAPTURE(host);
    CHECK(denied(host, everything));
    CHECK_FALSE(decide("nc " + std::string(host) + " 22", everything).destination);
  }
  CHECK(verdict("127.0.0.2", everything) ==
        "denied: 127.0.0.2 is a loopback address (127.0.0.0/8); only a subnet inside 127.0.0.0/8 "
        "opens it");
  std::array<std::string_view, 1> lo8{"127.0.0.0/8"};
  CHECK(verdict("127.0.0.1", lo8) == "allowed");
  std::array<std::string_view, 1> lo_one{"127.0.0.5/32"};
  CHECK(verdict("127.0.0.5", lo_one) == "allowed");
  std::array<std::string_view, 1> lo6{"::1/128"};
  CHECK(verdict("::1", lo6) == "allowed");
  std::array<std::string_view, 1> wide{"0.0.0.0/1"};
  CHECK(denied("127.0.0.1", wide));
}

TEST_CASE("unspecified addresses (connect() there reaches the host) are refused unless named") {
  CHECK(verdict("0.0.0.0", everything) ==
        "denied: 0.0.0.0 is an unspecified (this-host) address (0.0.0.0/8); only a subnet inside "
        "0.0.0.0/8 opens it");
  CHECK(denied("0.1.2.3", everything));
  CHECK(denied("::", everything));
  CHECK(denied("::ffff:0.0.0.0", everything));
  std::array<std::string_view, 1> any6{"::/128"};
  CHECK(verdict("::", any6) == "allowed");
}

TEST_CASE("NAT64 and IPv4-compatible forms are refused unless a subnet lies inside them") {
  CHECK(verdict("64:ff9b::a14:1", everything) ==
        "denied: 64:ff9b::a14:1 is a NAT64 address (64:ff9b::/96) reaching IPv4 10.20.0.1; only a "
        "subnet inside 64:ff9b::/96 opens it");
  CHECK(denied("64:ff9b::7f00:1", everything));
  CHECK(denied("64:ff9b:1::a14:2", everything));
  CHECK(denied("::a14:2", everything));  // IPv4-compatible ::10.20.0.2
  std::array<std::string_view, 1> wide{"64::/16"};
  CHECK(denied("64:ff9b::a14:2", wide));

  std::array<std::string_view, 1> nat64{"64:ff9b::/96"};
  CHECK(verdict("64:ff9b::a14:2", nat64) == "allowed");
  std::array<std::string_view, 1> nat64_site{"64:ff9b::a14:0/120"};
  CHECK(verdict("64:ff9b::a14:2", nat64_site) == "allowed");
  CHECK(denied("64:ff9b::a15:2", nat64_site));  // outside the subnet
  std::array<std::string_view, 1> local_nat64{"64:ff9b:1::/48"};
  CHECK(verdict("64:ff9b:1::a14:2", local_nat64) == "allowed");
  // A narrow subnet of the wrong range does not help.
  std::array<std::string_view, 2> both{"::/0", "64:ff9b:1::/48"};
  CHECK(denied("64:ff9b::a14:2", both));
}

TEST_CASE("multicast and broadcast are refused whatever the subnets say") {
  CHECK(verdict("224.0.0.1", everything) == "denied: 224.0.0.1 is a multicast address");
  CHECK(denied("239.255.255.250", everything));
  CHECK(denied("ff02::1", everything));
  CHECK(verdict("255.255.255.255", everything) == "denied: 255.255.255.255 is a broadcast address");
  CHECK(verdict("10.20.0.255", site) == "denied: 10.20.0.255 is a broadcast address");
  std::array<std::string_view, 2> named{"224.0.0.0/4", "ff02::1/128"};
  CHECK(denied("224.0.0.1", named));
  CHECK(denied("ff02::1", named));
  std::array<std::string_view, 1> bcast{"10.20.0.255/32"};
  CHECK(denied("10.20.0.255", bcast));
  // A /16 key where the LAN is a /24: .255 of another /24 is an ordinary host.
  std::array<std::string_view, 1> wide{"10.20.0.0/16"};
  CHECK(verdict("10.20.1.255", wide) == "allowed");
}

TEST_CASE("outside the key's subnets is still the first reason") {
  CHECK(verdict("127.0.0.1", site) == "denied: 127.0.0.1 is outside this key's subnets");
  CHECK(verdict("10.99.0.1", site) == "denied: 10.99.0.1 is outside this key's subnets");
}

TEST_CASE("parse_arguments takes --connect-timeout before the subnets") {
  std::array<std::string_view, 1> plain{"10.20.0.0/24"};
  auto a = parse_arguments(plain);
  CHECK(a.error.empty());
  CHECK(a.connect_timeout == std::chrono::seconds{10});
  CHECK(a.subnets == std::vector<std::string_view>{"10.20.0.0/24"});

  std::array<std::string_view, 4> spaced{"--connect-timeout", "3", "10.20.0.0/24", "fd00:20::/64"};
  a = parse_arguments(spaced);
  CHECK(a.error.empty());
  CHECK(a.connect_timeout == std::chrono::seconds{3});
  CHECK(a.subnets.size() == 2);

  std::array<std::string_view, 2> joined{"--connect-timeout=3600", "10.20.0.0/24"};
  a = parse_arguments(joined);
  CHECK(a.error.empty());
  CHECK(a.connect_timeout == std::chrono::seconds{3600});

  for (std::string_view bad : {"0", "3601", "05", "-1", "1.5", "", "10s", "99999999"}) {
    CAPTURE(bad);
    std::array<std::string_view, 3> args{"--connect-timeout", bad, "10.20.0.0/24"};
    CHECK_FALSE(parse_arguments(args).error.empty());
  }
  std::array<std::string_view, 1> missing{"--connect-timeout"};
  CHECK(parse_arguments(missing).error == "option --connect-timeout needs a value");
  std::array<std::string_view, 2> unknown{"--timeout=3", "10.20.0.0/24"};
  CHECK(parse_arguments(unknown).error.find("unknown option \"--timeout=3\"") == 0);
  // After the first subnet nothing is an option: the subnet parser refuses it.
  std::array<std::string_view, 3> late{"10.20.0.0/24", "--connect-timeout", "3"};
  a = parse_arguments(late);
  CHECK(a.error.empty());
  CHECK_FALSE(decide("nc 10.20.0.2 22", a.subnets).destination);
}
