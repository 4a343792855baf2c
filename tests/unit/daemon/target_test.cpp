#include <doctest/doctest.h>

#include "target.hpp"

using dvpn::far_command;
using dvpn::hostsdb::Ip;

TEST_CASE("far command substitutes host and port") {
  CHECK(far_command("nc {host} {port}", *Ip::parse("10.0.3.7"), 80) == "nc 10.0.3.7 80");
  CHECK(far_command("nc {host} {port}", *Ip::parse("fd00:5::1"), 443) == "nc fd00:5::1 443");
  CHECK(far_command("busybox nc -w 3 {host} {port}", *Ip::parse("10.0.3.7"), 22) == "busybox nc -w 3 10.0.3.7 22");
  CHECK(far_command("nc {host} {port}", *Ip::parse("10.0.3.7"), "PORT") == "nc 10.0.3.7 PORT");
}

TEST_CASE("far command leaves other braces and text alone") {
  CHECK(far_command("{hostx} {host}:{port}", *Ip::parse("10.0.0.1"), 1) == "{hostx} 10.0.0.1:1");
}

TEST_CASE("an SSH endpoint prints IPv6 hosts in brackets") {
  dvpn::SshEndpoint key{"dvpn", "2001:db8::5", 22};
  CHECK(key.to_string() == "dvpn@[2001:db8::5]:22");
  dvpn::SshEndpoint name{"u", "gw.example", 2222};
  CHECK(name.to_string() == "u@gw.example:2222");
}

TEST_CASE("resolve_target fills config defaults and site options") {
  dvpn::config::Config cfg;
  cfg.ssh.user = "dvpn";
  cfg.ssh.port = 22;
  cfg.ssh.command = "nc {host} {port}";
  dvpn::hostsdb::Diagnostics diags;
  auto sites = dvpn::hostsdb::parse_hosts_text(
      "10.0.3.1 thursday #!203.0.113.7\n"
      "10.0.4.1 friday #!ops@gw.friday.example:2222 subnet=10.0.4.0/23 mode=direct\n",
      "hosts", {}, diags);
  auto table = dvpn::hostsdb::RouteTable::build(std::move(sites), diags);
  REQUIRE(diags.empty());

  auto thursday = dvpn::resolve_target(cfg, table, *Ip::parse("10.0.3.7"), 80);
  REQUIRE(thursday);
  CHECK(thursday->site->name == "thursday");
  CHECK(thursday->endpoint.to_string() == "dvpn@203.0.113.7:22");
  CHECK(thursday->mode == dvpn::hostsdb::Mode::netcat);
  CHECK(thursday->command == "nc 10.0.3.7 80");

  auto friday = dvpn::resolve_target(cfg, table, *Ip::parse("10.0.5.9"), 443);
  REQUIRE(friday);
  CHECK(friday->endpoint.to_string() == "ops@gw.friday.example:2222");
  CHECK(friday->mode == dvpn::hostsdb::Mode::direct);
  CHECK(friday->command.empty());

  CHECK_FALSE(dvpn::resolve_target(cfg, table, *Ip::parse("10.0.6.1"), 80));
}

TEST_CASE("resolve_target lists every path in order, defaults filled in on relays too") {
  dvpn::config::Config cfg;
  cfg.ssh.user = "dvpn";
  cfg.ssh.port = 22;
  dvpn::hostsdb::Diagnostics diags;
  auto table = dvpn::hostsdb::RouteTable::build(
      dvpn::hostsdb::parse_hosts_text(
          "10.0.3.1 both #!home.example.org,ops@relay.example.net:2222>127.0.0.1:2201\n"
          "10.0.4.1 natted #!relay.example.net>u@[::1]:2202,gw4\n"
          "10.0.5.1 same #!gw5,dvpn@gw5:22,gw5:2200\n",
          "hosts", {}, diags),
      diags);
  REQUIRE(diags.empty());

  auto both = dvpn::resolve_target(cfg, table, *Ip::parse("10.0.3.7"), 80);
  REQUIRE(both);
  REQUIRE(both->paths.size() == 2);
  CHECK_FALSE(both->paths[0].relay);
  CHECK(both->paths[0].target.to_string() == "dvpn@home.example.org:22");
  REQUIRE(both->paths[1].relay);
  CHECK(both->paths[1].relay->to_string() == "ops@relay.example.net:2222");
  CHECK(both->paths[1].target.to_string() == "dvpn@127.0.0.1:2201");
  CHECK(both->paths[1].to_string() == "ops@relay.example.net:2222>dvpn@127.0.0.1:2201");
  CHECK(both->endpoint == both->paths[0].target);

  // A relayed first path: endpoint is still paths[0].target (the pool's key
  // until it uses paths).
  auto natted = dvpn::resolve_target(cfg, table, *Ip::parse("10.0.4.7"), 80);
  REQUIRE(natted);
  REQUIRE(natted->paths.size() == 2);
  CHECK(natted->paths[0].to_string() == "dvpn@relay.example.net:22>u@[::1]:2202");
  CHECK(natted->paths[1].to_string() == "dvpn@gw4:22");
  CHECK(natted->endpoint.to_string() == "u@[::1]:2202");
  // The status view finds the pool of the path in use among the same paths.
  CHECK(dvpn::paths_of(cfg, *natted->site) == natted->paths);

  // Paths that are equal once the defaults are filled in are kept once.
  auto same = dvpn::resolve_target(cfg, table, *Ip::parse("10.0.5.7"), 80);
  REQUIRE(same);
  REQUIRE(same->paths.size() == 2);
  CHECK(same->paths[0].to_string() == "dvpn@gw5:22");
  CHECK(same->paths[1].to_string() == "dvpn@gw5:2200");
}
