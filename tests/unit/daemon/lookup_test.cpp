#include <doctest/doctest.h>

#include "lookup.hpp"

using dvpn::parse_lookup_query;

TEST_CASE("lookup queries: address with or without port") {
  auto q = parse_lookup_query("10.0.3.7:80");
  REQUIRE(q);
  CHECK(q->ip.to_string() == "10.0.3.7");
  CHECK(q->port == 80);
  CHECK(parse_lookup_query("10.0.3.7")->port == 0);
  CHECK(parse_lookup_query("fd00::1")->ip.to_string() == "fd00::1");
  CHECK(parse_lookup_query("[fd00::1]:443")->port == 443);
}

TEST_CASE("malformed lookup queries are refused") {
  CHECK_FALSE(parse_lookup_query(""));
  CHECK_FALSE(parse_lookup_query("10.0.3.7:0"));
  CHECK_FALSE(parse_lookup_query("10.0.3.7:65536"));
  CHECK_FALSE(parse_lookup_query("10.0.3.7:http"));
  CHECK_FALSE(parse_lookup_query("[fd00::1"));
  CHECK_FALSE(parse_lookup_query("[fd00::1]x"));
  CHECK_FALSE(parse_lookup_query("host.example:80"));
}

TEST_CASE("lookup report names site, subnet, endpoint, mode and command") {
  dvpn::config::Config cfg;
  dvpn::hostsdb::Diagnostics diags;
  auto table = dvpn::hostsdb::RouteTable::build(
      dvpn::hostsdb::parse_hosts_text("10.0.3.1 thursday #!203.0.113.7\n", "h", {}, diags), diags);
  bool found = false;
  std::string report = dvpn::describe_lookup(cfg, table, *parse_lookup_query("10.0.3.7:80"), found);
  CHECK(found);
  CHECK(report.find("site thursday (h:1)") != std::string::npos);
  CHECK(report.find("subnet:   10.0.3.0/24") != std::string::npos);
  CHECK(report.find("endpoint: dvpn@203.0.113.7:22") != std::string::npos);
  CHECK(report.find("mode:     netcat") != std::string::npos);
  CHECK(report.find("command:  nc 10.0.3.7 80") != std::string::npos);

  report = dvpn::describe_lookup(cfg, table, *parse_lookup_query("10.9.9.9"), found);
  CHECK_FALSE(found);
  CHECK(report.find("no site serves this address") != std::string::npos);
}

TEST_CASE("lookup report lists the preferred path, then each fallback, relays after 'via'") {
  dvpn::config::Config cfg;
  dvpn::hostsdb::Diagnostics diags;
  auto table = dvpn::hostsdb::RouteTable::build(
      dvpn::hostsdb::parse_hosts_text(
          "10.0.3.1 home #!dvpn@home.example.org,dvpn@relay.example.net>dvpn@127.0.0.1:2201 mode=direct\n"
          "10.0.4.1 natted #!relay.example.net>127.0.0.1:2201\n",
          "h", {}, diags),
      diags);
  REQUIRE(diags.empty());
  bool found = false;
  CHECK(dvpn::describe_lookup(cfg, table, *parse_lookup_query("10.0.3.7:80"), found) ==
        "10.0.3.7:80 -> site home (h:1)\n"
        "  subnet:   10.0.3.0/24\n"
        "  endpoint: dvpn@home.example.org:22\n"
        "  fallback: dvpn@127.0.0.1:2201 via dvpn@relay.example.net:22\n"
        "  mode:     direct\n"
        "  channel:  direct-tcpip to 10.0.3.7:80\n");
  CHECK(found);
  std::string report = dvpn::describe_lookup(cfg, table, *parse_lookup_query("10.0.4.7"), found);
  CHECK(report.find("  endpoint: dvpn@127.0.0.1:2201 via dvpn@relay.example.net:22\n") != std::string::npos);
  CHECK(report.find("fallback") == std::string::npos);
}
