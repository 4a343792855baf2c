#pragma once
// Shared by the config tests: asserts that every field holds its built-in default.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config.hpp"

namespace dvpn::config::testing {

inline hostsdb::Prefix prefix(const char* text) { return *hostsdb::Prefix::parse(text).prefix; }

// Checks every field against the built-in defaults, spelled out rather than
// compared with Config{} so a changed default must be changed here too.
inline void check_defaults(const Config& c) {
  CHECK(c.listen == std::vector<std::string>{"0.0.0.0:7007", "[::]:7007"});
  CHECK(c.hosts == std::vector<std::string>{"/etc/hosts", "/etc/dvpn/hosts.d"});
  CHECK(c.site_prefix.ipv4 == 24);
  CHECK(c.site_prefix.ipv6 == 64);
  CHECK(c.vpn_networks == std::vector<hostsdb::Prefix>{prefix("10.0.0.0/8")});
  CHECK(c.local_subnets.empty());
  CHECK(c.ssh.user == "dvpn");
  CHECK(c.ssh.port == 22);
  CHECK(c.ssh.identity == "/etc/dvpn/id_ed25519");
  CHECK(c.ssh.known_hosts == "/etc/dvpn/known_hosts");
  CHECK(c.ssh.host_key_policy == HostKeyPolicy::strict);
  CHECK(c.ssh.mode == hostsdb::Mode::netcat);
  CHECK(c.ssh.command == "nc {host} {port}");
  CHECK(c.ssh.connect_timeout == std::chrono::seconds(5));
  CHECK(c.ssh.keepalive == std::chrono::seconds(15));
  CHECK(c.ssh.max_channels_per_session == 10);
  CHECK(c.ssh.max_direct_channels_per_session == 2000);
  CHECK(c.ssh.max_sessions_per_gateway == 16);
  CHECK(c.ssh.idle_timeout == std::chrono::seconds(60));
  CHECK(c.ssh.probe_interval == std::chrono::seconds(30));
  CHECK(c.ssh.window_size == 4u << 20);
  CHECK(c.max_connections == 20000);
  CHECK(c.shutdown_grace == std::chrono::seconds(10));
  CHECK(c.client_keepalive == std::chrono::seconds(60));
  CHECK(c.connection_idle_timeout == std::chrono::hours(2));
  CHECK(c.buffer_budget == 64u << 20);
  CHECK(c.log_level == LogLevel::info);
  CHECK(c.log_target == LogTarget::stderr_);
  CHECK(c.control_socket == "/run/dvpn/control.sock");
  CHECK(c.metrics_listen.empty());
  CHECK(c.run_as == "dvpnd");
  CHECK(c.relay_listen.empty());
}

}  // namespace dvpn::config::testing
