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
