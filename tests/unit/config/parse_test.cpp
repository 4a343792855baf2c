// parse_config from in-memory text: defaults, every key, and every error class
// with its exact "FILE:LINE:COL: ..." message.
#include <doctest/doctest.h>

#include <string>

#include "check_defaults.hpp"
#include "config.hpp"

using namespace dvpn::config;
using namespace std::chrono_literals;
using dvpn::hostsdb::Mode;
using dvpn::hostsdb::Prefix;
using dvpn::config::testing::check_defaults;
using dvpn::config::testing::prefix;

namespace {

// The message parse_config throws for `text` (named t.yaml), or "(no error)".
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("an empty text gives the defaults and records its name") {
  const auto c = parse_config("", "empty.yaml");
  CHECK(c.path == "empty.yaml");
  check_defaults(c);
}

TEST_CASE("comments, blank lines and a bare document marker give the defaults") {
  check_defaults(parse_config("# nothing here\n\n   # indented comment\n", "t.yaml"));
  check_defaults(parse_config("---\n", "t.yaml"));
  check_defaults(parse_config("---\n# only a comment\n...\n", "t.yaml"));
}

TEST_CASE("a section left empty keeps its defaults") {
  check_defaults(parse_config("ssh:\n#  user: other\nlimits: ~\nlog: {}\nsite_prefix:\n", "t.yaml"));
}

TEST_CASE("every key is read") {
  const auto c = parse_config(R"(
listen: ["127.0.0.1:7100", "[::1]:7100", "10.1.0.1:7101"]
hosts: [/srv/hosts, relative.hosts]
site_prefix: {ipv4: 16, ipv6: 48}
vpn_networks: [10.0.0.0/8, "fd00::/8"]
local_subnets: [10.1.0.0/16, fd00:1::/48]
ssh:
  user: tunnel
  port: 2222
  identity: /etc/dvpn/id_rsa
  known_hosts: /var/lib/dvpn/known_hosts
  host_key_policy: accept-new
  mode: direct
  command: "exec /bin/nc -w 3 {host} {port}"
  connect_timeout: 2500ms
  keepalive: 0s
  max_channels_per_session: 64
  max_direct_channels_per_session: 100000
  max_sessions_per_gateway: 1
  warm_sessions: 3
  idle_timeout: 2h
  window_size: 64KiB
limits:
  max_connections: 1000000
  shutdown_grace: 0s
  client_keepalive: 0s
  idle_timeout: 30m
  buffer_budget: 8MiB
log:
  level: debug
  target: syslog
control_socket: /tmp/dvpn.sock
metrics_listen: "[::1]:9107"
run_as: ""
)",
                              "full.yaml");
  CHECK(c.path == "full.yaml");
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:7100", "[::1]:7100", "10.1.0.1:7101"});
  CHECK(c.hosts == std::vector<std::string>{"/srv/hosts", "relative.hosts"});
  CHECK(c.site_prefix.ipv4 == 16);
  CHECK(c.site_prefix.ipv6 == 48);
  CHECK(c.vpn_networks == std::vector<Prefix>{prefix("10.0.0.0/8"), prefix("fd00::/8")});
  CHECK(c.local_subnets == std::vector<Prefix>{prefix("10.1.0.0/16"), prefix("fd00:1::/48")});
  CHECK(c.ssh.user == "tunnel");
  CHECK(c.ssh.port == 2222);
  CHECK(c.ssh.identity == "/etc/dvpn/id_rsa");
  CHECK(c.ssh.known_hosts == "/var/lib/dvpn/known_hosts");
  CHECK(c.ssh.host_key_policy == HostKeyPolicy::accept_new);
  CHECK(c.ssh.mode == Mode::direct);
  CHECK(c.ssh.command == "exec /bin/nc -w 3 {host} {port}");
  CHECK(c.ssh.connect_timeout == 2500ms);
  CHECK(c.ssh.keepalive == 0s);
  CHECK(c.ssh.max_channels_per_session == 64);
  CHECK(c.ssh.max_direct_channels_per_session == 100000);
  CHECK(c.ssh.max_sessions_per_gateway == 1);
  CHECK(c.ssh.warm_sessions == 3);
  CHECK(c.ssh.idle_timeout == 2h);
  CHECK(c.ssh.window_size == 65536u);
  CHECK(c.buffer_budget == 8u << 20);
  CHECK(c.max_connections == 1000000);
  CHECK(c.shutdown_grace == 0s);
  CHECK(c.client_keepalive == 0s);
  CHECK(c.connection_idle_timeout == 30min);
  CHECK(c.log_level == LogLevel::debug);
  CHECK(c.log_target == LogTarget::syslog);
  CHECK(c.control_socket == "/tmp/dvpn.sock");
  CHECK(c.metrics_listen == "[::1]:9107");
  CHECK(c.run_as == "");
}

TEST_CASE("keys left out keep their defaults next to keys that are set") {
  const auto c = parse_config("ssh:\n  port: 2200\nlog: {level: error}\n", "t.yaml");
  CHECK(c.ssh.port == 2200);
  CHECK(c.ssh.user == "dvpn");
  CHECK(c.ssh.keepalive == 15s);
  CHECK(c.log_level == LogLevel::error);
  CHECK(c.log_target == LogTarget::stderr_);
  CHECK(c.listen.size() == 2);
}

TEST_CASE("an empty local_subnets list is allowed, an empty vpn_networks is not") {
  CHECK(parse_config("local_subnets: []\n", "t.yaml").local_subnets.empty());
  CHECK(error_of("vpn_networks: []\n") ==
        "t.yaml:1:15: vpn_networks is an empty list, expected a list of CIDR prefixes like "
        "[10.0.0.0/8, fd00::/8]");
}

TEST_CASE("range bounds are inclusive") {
  const auto low = parse_config(R"(
site_prefix: {ipv4: 0, ipv6: 0}
ssh: {port: 1, max_channels_per_session: 1, max_direct_channels_per_session: 1,
      max_sessions_per_gateway: 1, window_size: 32KiB, connect_timeout: 1ms,
      idle_timeout: 1ms, keepalive: 0s}
limits: {max_connections: 1, shutdown_grace: 0s}
)",
                                "t.yaml");
  CHECK(low.site_prefix.ipv4 == 0);
  CHECK(low.ssh.port == 1);
  CHECK(low.ssh.window_size == 32768u);
  CHECK(low.ssh.connect_timeout == 1ms);
  CHECK(low.max_connections == 1);

  const auto high = parse_config(R"(
site_prefix: {ipv4: 32, ipv6: 128}
ssh: {port: 65535, max_channels_per_session: 1000, max_direct_channels_per_session: 100000,
      max_sessions_per_gateway: 1000, window_size: 16MiB, connect_timeout: 1h,
      idle_timeout: 24h, keepalive: 1h}
limits: {max_connections: 1000000, shutdown_grace: 1h}
)",
                                 "t.yaml");
  CHECK(high.site_prefix.ipv4 == 32);
  CHECK(high.site_prefix.ipv6 == 128);
  CHECK(high.ssh.port == 65535);
  CHECK(high.ssh.window_size == 16u << 20);
  CHECK(high.ssh.idle_timeout == 24h);
  CHECK(high.ssh.keepalive == 1h);
  CHECK(high.shutdown_grace == 1h);
}

TEST_CASE("unknown keys are errors at the key, listing the keys allowed there") {
  CHECK(error_of("listen: [\"0.0.0.0:1\"]\nlsiten: []\n") ==
        "t.yaml:2:1: unknown key \"lsiten\", expected one of listen, hosts, site_prefix, "
        "vpn_networks, local_subnets, ssh, limits, log, control_socket, metrics_listen, run_as, relay_listen");
  CHECK(error_of("ssh:\n  user: dvpn\n  usr: x\n") ==
        "t.yaml:3:3: unknown key \"ssh.usr\", expected one of user, port, identity, known_hosts, "
        "host_key_policy, mode, command, connect_timeout, keepalive, max_channels_per_session, "
        "max_direct_channels_per_session, max_sessions_per_gateway, warm_sessions, idle_timeout, probe_interval, window_size");
  CHECK(error_of("log: {level: info, colour: yes}\n") ==
        "t.yaml:1:20: unknown key \"log.colour\", expected one of level, target");
  CHECK(error_of("limits:\n    max_conns: 5\n") ==
        "t.yaml:2:5: unknown key \"limits.max_conns\", expected one of max_connections, shutdown_grace, "
        "client_keepalive, idle_timeout, buffer_budget");
  CHECK(error_of("site_prefix: {ipv5: 1}\n") ==
        "t.yaml:1:15: unknown key \"site_prefix.ipv5\", expected one of ipv4, ipv6");
}

TEST_CASE("a key given twice is an error at the second one") {
  CHECK(error_of("ssh:\n  port: 1\n  port: 2\n") ==
        "t.yaml:3:3: duplicate key \"ssh.port\" (first at line 2), expected each key once");
  CHECK(error_of("run_as: a\nrun_as: b\n") ==
        "t.yaml:2:1: duplicate key \"run_as\" (first at line 1), expected each key once");
}

TEST_CASE("a key that is not a scalar is an error") {
  CHECK(error_of("[a]: 1\n") ==
        "t.yaml:1:1: the top level has a key that is a list, expected one of listen, hosts, "
        "site_prefix, vpn_networks, local_subnets, ssh, limits, log, control_socket, metrics_listen, run_as, relay_listen");
}

TEST_CASE("wrong types: list, scalar and mapping where another is expected") {
  CHECK(error_of("ssh:\n  port: [22]\n") ==
        "t.yaml:2:9: ssh.port is a list, expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  user: {name: x}\n") ==
        "t.yaml:2:9: ssh.user is a mapping, expected a login name like dvpn");
  CHECK(error_of("listen: \"0.0.0.0:7007\"\n") ==
        "t.yaml:1:9: listen is \"0.0.0.0:7007\", expected a list of ADDRESS:PORT like "
        "[\"0.0.0.0:7007\", \"[::]:7007\"]");
  CHECK(error_of("hosts: {a: b}\n") ==
        "t.yaml:1:8: hosts is a mapping, expected a list of files or directories like "
        "[/etc/hosts, /etc/dvpn/hosts.d]");
  CHECK(error_of("ssh: [user, dvpn]\n") ==
        "t.yaml:1:6: ssh is a list, expected a mapping of ssh settings");
  CHECK(error_of("log: info\n") ==
        "t.yaml:1:6: log is \"info\", expected a mapping like {level: info, target: stderr}");
  CHECK(error_of("limits: [1]\n") ==
        "t.yaml:1:9: limits is a list, expected a mapping like {max_connections: 20000, shutdown_grace: 10s, "
        "idle_timeout: 2h, buffer_budget: 64MiB}");
  CHECK(error_of("site_prefix: 24\n") ==
        "t.yaml:1:14: site_prefix is \"24\", expected a mapping like {ipv4: 24, ipv6: 64}");
  CHECK(error_of("hosts: [[/etc/hosts]]\n") ==
        "t.yaml:1:9: hosts[0] is a list, expected a path to a hosts file or directory");
  CHECK(error_of("vpn_networks: [{a: 1}]\n") ==
        "t.yaml:1:16: vpn_networks[0] is a mapping, expected a CIDR prefix like 10.0.0.0/8 or fd00::/8");
  CHECK(error_of("log:\n  level: [info]\n") ==
        "t.yaml:2:10: log.level is a list, expected one of debug, info, warning, error");
}

TEST_CASE("a quoted string where a number is expected is a wrong type") {
  CHECK(error_of("ssh:\n  port: \"22\"\n") ==
        "t.yaml:2:9: ssh.port is the quoted string \"22\", expected an integer from 1 to 65535");
  CHECK(error_of("limits: {max_connections: '5'}\n") ==
        "t.yaml:1:27: limits.max_connections is the quoted string \"5\", expected an integer from 1 to 1000000");
  CHECK(error_of("ssh:\n  port: twenty-two\n") ==
        "t.yaml:2:9: ssh.port is \"twenty-two\", expected an integer from 1 to 65535");
}

TEST_CASE("an empty value where a value is needed points at its key") {
  CHECK(error_of("ssh:\n  user:\n  port: 22\n") ==
        "t.yaml:2:3: ssh.user is empty, expected a login name like dvpn");
  CHECK(error_of("listen:\n") ==
        "t.yaml:1:1: listen is empty, expected a list of ADDRESS:PORT like [\"0.0.0.0:7007\", \"[::]:7007\"]");
  CHECK(error_of("control_socket: ~\n") ==
        "t.yaml:1:1: control_socket is empty, expected a path for the control socket like /run/dvpn/control.sock");
  CHECK(error_of("ssh: {identity: \"\"}\n") ==
        "t.yaml:1:17: ssh.identity is \"\", expected a path to a private key file");
  CHECK(error_of("hosts: [\"\"]\n") ==
        "t.yaml:1:9: hosts[0] is \"\", expected a path to a hosts file or directory");
  CHECK(error_of("hosts: []\n") ==
        "t.yaml:1:8: hosts is an empty list, expected a list of files or directories like "
        "[/etc/hosts, /etc/dvpn/hosts.d]");
}

TEST_CASE("out-of-range and malformed numbers") {
  CHECK(error_of("ssh:\n  port: 70000\n") ==
        "t.yaml:2:9: ssh.port is 70000, out of range, expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  port: 0\n") ==
        "t.yaml:2:9: ssh.port is 0, out of range, expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  port: -1\n") ==
        "t.yaml:2:9: ssh.port is \"-1\", expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  port: 22.0\n") ==
        "t.yaml:2:9: ssh.port is \"22.0\", expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  port: 0x16\n") ==
        "t.yaml:2:9: ssh.port is \"0x16\", expected an integer from 1 to 65535");
  CHECK(error_of("ssh:\n  port: 99999999999999999999999\n") ==
        "t.yaml:2:9: ssh.port is \"99999999999999999999999\", expected an integer from 1 to 65535");
  CHECK(error_of("site_prefix: {ipv4: 33}\n") ==
        "t.yaml:1:21: site_prefix.ipv4 is 33, out of range, expected an integer from 0 to 32");
  CHECK(error_of("site_prefix: {ipv6: 129}\n") ==
        "t.yaml:1:21: site_prefix.ipv6 is 129, out of range, expected an integer from 0 to 128");
  CHECK(error_of("ssh: {max_channels_per_session: 1001}\n") ==
        "t.yaml:1:33: ssh.max_channels_per_session is 1001, out of range, expected an integer from 1 to 1000");
  CHECK(error_of("ssh: {max_direct_channels_per_session: 100001}\n") ==
        "t.yaml:1:40: ssh.max_direct_channels_per_session is 100001, out of range, expected an integer "
        "from 1 to 100000");
  CHECK(error_of("ssh: {max_sessions_per_gateway: 0}\n") ==
        "t.yaml:1:33: ssh.max_sessions_per_gateway is 0, out of range, expected an integer from 1 to 1000");
  CHECK(error_of("limits: {max_connections: 1000001}\n") ==
        "t.yaml:1:27: limits.max_connections is 1000001, out of range, expected an integer from 1 to 1000000");
}

TEST_CASE("bad durations") {
  CHECK(error_of("ssh:\n  connect_timeout: 5\n") ==
        "t.yaml:2:20: ssh.connect_timeout is \"5\", expected a duration like 5s or 250ms");
  CHECK(error_of("ssh: {idle_timeout: 1 m}\n") ==
        "t.yaml:1:21: ssh.idle_timeout is \"1 m\", expected a duration like 5s or 250ms");
  CHECK(error_of("ssh: {idle_timeout: 2d}\n") ==
        "t.yaml:1:21: ssh.idle_timeout is \"2d\", expected a duration like 5s or 250ms");
  CHECK(error_of("limits: {shutdown_grace: -1s}\n") ==
        "t.yaml:1:26: limits.shutdown_grace is \"-1s\", expected a duration like 5s or 250ms");
  CHECK(error_of("limits: {shutdown_grace: 99999999999999999999h}\n") ==
        "t.yaml:1:26: limits.shutdown_grace is \"99999999999999999999h\", expected a duration like 5s or 250ms");
  CHECK(error_of("ssh: {connect_timeout: 0s}\n") ==
        "t.yaml:1:24: ssh.connect_timeout is 0s, out of range, expected a duration from 1ms to 1h");
  CHECK(error_of("ssh: {connect_timeout: 61m}\n") ==
        "t.yaml:1:24: ssh.connect_timeout is 61m, out of range, expected a duration from 1ms to 1h");
  CHECK(error_of("ssh: {idle_timeout: 25h}\n") ==
        "t.yaml:1:21: ssh.idle_timeout is 25h, out of range, expected a duration from 1ms to 24h");
  CHECK(error_of("ssh: {probe_interval: 50ms}\n") ==
        "t.yaml:1:23: ssh.probe_interval is 50ms, out of range, expected a duration from 100ms to 1h");
  CHECK(error_of("limits: {shutdown_grace: 2h}\n") ==
        "t.yaml:1:26: limits.shutdown_grace is 2h, out of range, expected a duration from 0s to 1h");
  CHECK(error_of("ssh: {keepalive: 1500ms}\n") ==
        "t.yaml:1:18: ssh.keepalive is 1500ms, not whole seconds, expected a duration in whole seconds "
        "like 15s, or 0s to disable");
  CHECK(error_of("ssh: {keepalive: [15s]}\n") ==
        "t.yaml:1:18: ssh.keepalive is a list, expected a duration like 5s or 250ms");
  CHECK(parse_config("ssh: {keepalive: \"30s\"}\n", "t.yaml").ssh.keepalive == 30s);
}

TEST_CASE("bad sizes") {
  CHECK(error_of("ssh: {window_size: 1MB}\n") ==
        "t.yaml:1:20: ssh.window_size is \"1MB\", expected a size like 65536, 64KiB or 1MiB");
  CHECK(error_of("ssh: {window_size: 1.5MiB}\n") ==
        "t.yaml:1:20: ssh.window_size is \"1.5MiB\", expected a size like 65536, 64KiB or 1MiB");
  CHECK(error_of("ssh: {window_size: 1KiB}\n") ==
        "t.yaml:1:20: ssh.window_size is 1KiB, out of range, expected a size from 32KiB to 16MiB");
  CHECK(error_of("ssh: {window_size: 32767}\n") ==
        "t.yaml:1:20: ssh.window_size is 32767, out of range, expected a size from 32KiB to 16MiB");
  CHECK(error_of("ssh: {window_size: 1GiB}\n") ==
        "t.yaml:1:20: ssh.window_size is 1GiB, out of range, expected a size from 32KiB to 16MiB");
  CHECK(parse_config("ssh: {window_size: 65536}\n", "t.yaml").ssh.window_size == 65536u);
  CHECK(parse_config("ssh: {window_size: 16777216}\n", "t.yaml").ssh.window_size == 16u << 20);
}

TEST_CASE("bad CIDR prefixes, including host bits") {
  CHECK(error_of("vpn_networks: [10.0.0.1/8]\n") ==
        "t.yaml:1:16: vpn_networks[0] is \"10.0.0.1/8\": host bits set, expected 10.0.0.0/8");
  CHECK(error_of("local_subnets:\n  - 10.1.0.0/16\n  - fd00:1::1/48\n") ==
        "t.yaml:3:5: local_subnets[1] is \"fd00:1::1/48\": host bits set, expected fd00:1::/48");
  // The exact wording of the rest belongs to hostsdb; pin the position and the quoted text.
  for (const char* bad : {"10.0.0.0", "foo/8", "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x"}) {
    CAPTURE(bad);
    const auto message = error_of(std::string("vpn_networks: [\"") + bad + "\"]\n");
    CHECK(message.starts_with("t.yaml:1:16: vpn_networks[0] is \"" + std::string(bad) + "\""));
    CHECK(message.find(", expected") != std::string::npos);
  }
}

TEST_CASE("bad listen addresses") {
  constexpr const char* form =
      "expected ADDRESS:PORT with an IP address and a port from 1 to 65535, IPv6 in brackets like [::]:7007";
  CHECK(error_of("listen: [\"::1:7007\"]\n") == std::string("t.yaml:1:10: listen[0] is \"::1:7007\", ") + form);
  CHECK(error_of("listen:\n  - 0.0.0.0:7007\n  - localhost:7007\n") ==
        std::string("t.yaml:3:5: listen[1] is \"localhost:7007\", ") + form);
  CHECK(error_of("listen: [\"0.0.0.0:0\"]\n") == std::string("t.yaml:1:10: listen[0] is \"0.0.0.0:0\", ") + form);
  CHECK(error_of("listen: [\"0.0.0.0\"]\n") == std::string("t.yaml:1:10: listen[0] is \"0.0.0.0\", ") + form);
  CHECK(error_of("listen: [\"0.0.0.0:7007\", \"[::]:7007\", \"0.0.0.0:7007\"]\n") ==
        "t.yaml:1:39: listen[2] is \"0.0.0.0:7007\", the same address as listen[0], expected each address once");
  CHECK(error_of("listen: []\n") ==
        "t.yaml:1:9: listen is an empty list, expected a list of ADDRESS:PORT like [\"0.0.0.0:7007\", \"[::]:7007\"]");
}

TEST_CASE("bad enum values") {
  CHECK(error_of("ssh:\n  host_key_policy: accept_new\n") ==
        "t.yaml:2:20: ssh.host_key_policy is \"accept_new\", expected one of strict, accept-new");
  CHECK(error_of("ssh:\n  mode: tunnel\n") ==
        "t.yaml:2:9: ssh.mode is \"tunnel\", expected one of netcat, direct");
  CHECK(error_of("log:\n  level: warn\n") ==
        "t.yaml:2:10: log.level is \"warn\", expected one of debug, info, warning, error");
  CHECK(error_of("log:\n  level: INFO\n") ==
        "t.yaml:2:10: log.level is \"INFO\", expected one of debug, info, warning, error");
  CHECK(error_of("log:\n  target: file\n") ==
        "t.yaml:2:11: log.target is \"file\", expected one of stderr, syslog");
}

TEST_CASE("the ssh command must carry {host} and {port} and no other placeholder") {
  constexpr const char* form = "expected a command with {host} and {port} like \"nc {host} {port}\"";
  CHECK(error_of("ssh:\n  command: nc {host}\n") ==
        std::string("t.yaml:2:12: ssh.command \"nc {host}\" has no {port} placeholder, ") + form);
  CHECK(error_of("ssh:\n  command: nc 10.0.0.1 {port}\n") ==
        std::string("t.yaml:2:12: ssh.command \"nc 10.0.0.1 {port}\" has no {host} placeholder, ") + form);
  CHECK(error_of("ssh:\n  command: \"nc {hots} {port}\"\n") ==
        std::string("t.yaml:2:12: ssh.command \"nc {hots} {port}\" has an unknown placeholder {hots}, ") + form);
  CHECK(error_of("ssh:\n  command: \"\"\n") ==
        std::string("t.yaml:2:12: ssh.command \"\" has no {host} placeholder, ") + form);
}

TEST_CASE("names: ssh.user, run_as and the control socket path") {
  CHECK(error_of("ssh: {user: \"a b\"}\n") ==
        "t.yaml:1:13: ssh.user is \"a b\", expected a login name like dvpn");
  CHECK(error_of("run_as: \"a b\"\n") ==
        "t.yaml:1:9: run_as is \"a b\", expected a local user name like dvpnd, or \"\" to keep the starting user");
  CHECK(error_of("run_as: nobody:nogroup\n") ==
        "t.yaml:1:9: run_as is \"nobody:nogroup\", expected a local user name like dvpnd, or \"\" to keep "
        "the starting user");
  CHECK(parse_config("run_as: nobody\n", "t.yaml").run_as == "nobody");
  const std::string fits = "/" + std::string(106, 's');
  CHECK(parse_config("control_socket: " + fits + "\n", "t.yaml").control_socket == fits);
  CHECK(error_of("control_socket: " + fits + "s\n") ==
        "t.yaml:1:17: control_socket is \"/" + std::string(59, 's') +
            "...\", 108 bytes long, expected a path of at most 107 bytes");
}

TEST_CASE("metrics_listen: ADDRESS:PORT or empty") {
  CHECK(parse_config("metrics_listen: 127.0.0.1:9107\n", "t.yaml").metrics_listen == "127.0.0.1:9107");
  CHECK(parse_config("metrics_listen: \"\"\n", "t.yaml").metrics_listen.empty());
  const std::string form =
      "expected ADDRESS:PORT like 127.0.0.1:9107 (IPv6 in brackets), or \"\" for no metrics listener";
  CHECK(error_of("metrics_listen: localhost:9107\n") == "t.yaml:1:17: metrics_listen is \"localhost:9107\", " + form);
  CHECK(error_of("metrics_listen: \"::1:9107\"\n") == "t.yaml:1:17: metrics_listen is \"::1:9107\", " + form);
  CHECK(error_of("metrics_listen: 127.0.0.1\n") == "t.yaml:1:17: metrics_listen is \"127.0.0.1\", " + form);
  CHECK(error_of("metrics_listen: [a]\n") == "t.yaml:1:17: metrics_listen is a list, " + form);
}

TEST_CASE("control characters in bad values are escaped in messages") {
  CHECK(error_of("log: {level: \"in\\tfo\\u0001\"}\n") ==
        "t.yaml:1:14: log.level is \"in\\x09fo\\x01\", expected one of debug, info, warning, error");
}

TEST_CASE("YAML syntax errors carry the parser's position") {
  CHECK(error_of("listen: [\"0.0.0.0:7007\"\nhosts: []\n") ==
        "t.yaml:2:1: YAML syntax error: end of sequence flow not found");
  CHECK(error_of("ssh:\n  user: a: b\n") == "t.yaml:2:10: YAML syntax error: illegal map value");
  CHECK(error_of("run_as: \"unterminated") == "t.yaml:1:22: YAML syntax error: illegal EOF in scalar");
  CHECK(error_of("\tlisten: []\n") == "t.yaml:1:8: YAML syntax error: illegal map value");
}

TEST_CASE("absurdly deep nesting is an error, not a stack overflow") {
  const std::string deep = "listen: " + std::string(3000, '[') + std::string(3000, ']') + "\n";
  const auto message = error_of(deep);
  CHECK(message.starts_with("t.yaml:1:"));
  CHECK(message.ends_with(": YAML nested 500 or more levels deep, expected a few levels"));
}

TEST_CASE("the top level must be one mapping") {
  CHECK(error_of("- listen\n- hosts\n") ==
        "t.yaml:1:1: the top level is a list, expected a mapping of settings (key: value lines)");
  CHECK(error_of("hello\n") ==
        "t.yaml:1:1: the top level is \"hello\", expected a mapping of settings (key: value lines)");
  CHECK(error_of("\n\n  42\n") ==
        "t.yaml:3:3: the top level is \"42\", expected a mapping of settings (key: value lines)");
}

TEST_CASE("a second document is an error at its start") {
  CHECK(error_of("run_as: a\n---\nrun_as: b\n") ==
        "t.yaml:2:1: a second YAML document, expected one document per file");
  CHECK(error_of("run_as: a\n...\nrun_as: b\n") ==
        "t.yaml:3:1: a second YAML document, expected one document per file");
  CHECK(error_of("run_as: a\n---\n") ==
        "t.yaml:2:1: a second YAML document, expected one document per file");
  CHECK(error_of("---\n---\n") == "t.yaml:2:1: a second YAML document, expected one document per file");
}

TEST_CASE("a stray token no document can start with is a syntax error, not a hang") {
  // yaml-cpp 0.7's LoadAll never returns on these (jbeder/yaml-cpp#1040).
  CHECK(error_of(",") == "t.yaml:1:1: YAML syntax error: unexpected \",\"");
  CHECK(error_of("# comment\n\n  , run_as: a\n") == "t.yaml:3:3: YAML syntax error: unexpected \",\"");
  // After a complete document too (this path once read a dangling reference).
  CHECK(error_of("{run_as: a}\n, b\n") == "t.yaml:2:1: YAML syntax error: unexpected \",\"");
  CHECK(error_of("run_as: a\n...\n,\n") == "t.yaml:3:1: YAML syntax error: unexpected \",\"");
  CHECK(error_of("]") == "t.yaml:1:1: YAML syntax error: illegal flow end");
  CHECK(error_of("{:") == "t.yaml:1:2: YAML syntax error: unknown token");
}

TEST_CASE("aliases read like the value they name") {
  const auto c = parse_config("ssh:\n  connect_timeout: &t 7s\n  idle_timeout: *t\n", "t.yaml");
  CHECK(c.ssh.connect_timeout == 7s);
  CHECK(c.ssh.idle_timeout == 7s);
}

TEST_CASE("relay_listen: relay, port and to; user and port of the relay left to the ssh defaults") {
  const auto c = parse_config(
      "relay_listen:\n"
      "  - relay: ops@relay.example.net:2222\n"
      "    port: 2201\n"
      "    to: 127.0.0.1:2022\n"
      "  - {relay: relay2.example.net, port: 2202}\n",
      "t.yaml");
  REQUIRE(c.relay_listen.size() == 2);
  CHECK(c.relay_listen[0].relay.user == "ops");
  CHECK(c.relay_listen[0].relay.host == "relay.example.net");
  CHECK(c.relay_listen[0].relay.port == 2222);
  CHECK(c.relay_listen[0].port == 2201);
  CHECK(c.relay_listen[0].to.to_string() == "127.0.0.1:2022");
  CHECK_FALSE(c.relay_listen[1].relay.user);
  CHECK_FALSE(c.relay_listen[1].relay.port);
  CHECK(c.relay_listen[1].to.to_string() == "127.0.0.1:22");
  CHECK(parse_config("relay_listen: []\n", "t.yaml").relay_listen.empty());
}

TEST_CASE("relay_listen errors name the item and what was expected") {
  CHECK(error_of("relay_listen:\n  - port: 2201\n") ==
        "t.yaml:2:5: relay_listen[0] has no relay, expected relay: [user@]host[:port] of the relay's sshd");
  CHECK(error_of("relay_listen:\n  - relay: r\n") ==
        "t.yaml:2:5: relay_listen[0] has no port, expected port: the relay's loopback port, 1024-65535");
  CHECK(error_of("relay_listen:\n  - {relay: r, port: 22}\n").find("relay_listen[0].port") != std::string::npos);
  CHECK(error_of("relay_listen:\n  - {relay: \"a b\", port: 2201}\n").find("relay_listen[0].relay is \"a b\"") !=
        std::string::npos);
  CHECK(error_of("relay_listen:\n  - {relay: r, port: 2201, to: localhost:22}\n") ==
        "t.yaml:2:32: relay_listen[0].to is \"localhost:22\", expected ADDRESS:PORT of this gateway's sshd like "
        "127.0.0.1:22");
  CHECK(error_of("relay_listen:\n  - {relay: r, port: 2201, listen: 1}\n").find("unknown") != std::string::npos);
}
