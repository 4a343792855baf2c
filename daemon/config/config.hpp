#pragma once
// The daemon's configuration (dvpn.yaml(5)) as a plain value. Loading is
// the only place that knows YAML; everything else reads these fields.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hosts_parser.hpp"  // SitePrefix
#include "ip.hpp"
#include "ip_endpoint.hpp"
#include "site.hpp"          // Mode

namespace dvpn::config {

using Duration = std::chrono::milliseconds;

enum class HostKeyPolicy { strict, accept_new };
enum class LogTarget { stderr_, syslog };
enum class LogLevel { debug, info, warning, error };

struct SshConfig {
  std::string user = "dvpn";
  std::uint16_t port = 22;
  std::string identity = "/etc/dvpn/id_ed25519";
  std::string known_hosts = "/etc/dvpn/known_hosts";
  HostKeyPolicy host_key_policy = HostKeyPolicy::strict;
  hostsdb::Mode mode = hostsdb::Mode::netcat;
  std::string command = "nc {host} {port}";
  Duration connect_timeout = std::chrono::seconds(5);
  Duration keepalive = std::chrono::seconds(15);
  unsigned max_channels_per_session = 10;          // exec (netcat) channels
  unsigned max_direct_channels_per_session = 2000; // direct-tcpip channels
  unsigned max_sessions_per_gateway = 16;
  // Sessions kept ready to a gateway while it carries a connection, for
  // bursts of new ones (dvpn.yaml(5)); 0: only as many as the load calls for.
  unsigned warm_sessions = 0;
  Duration idle_timeout = std::chrono::seconds(60);
  // Sites with several paths: how often the path in use, and an unhealthy
  // one before it, is probed (dvpnd(8), FAILURES).
  Duration probe_interval = std::chrono::seconds(30);
  std::uint32_t window_size = 4u << 20;            // the most one channel's window grows to
};

// relay_listen: one item. This gateway (behind NAT) keeps an SSH session to
// `relay`, listens on 127.0.0.1:`port` of the relay (tcpip-forward) and
// connects each forwarded connection to `to` (its own sshd).
struct RelayListen {
  hostsdb::Endpoint relay;  // user and port default to ssh.user and ssh.port
  std::uint16_t port = 0;
  hostsdb::IpEndpoint to = {*hostsdb::Ip::parse("127.0.0.1"), 22};
};

struct Config {
  std::string path;  // the file it came from ("" for built-in defaults)
  // As written, so messages quote them; each parses as a hostsdb::IpEndpoint.
  std::vector<std::string> listen = {"0.0.0.0:7007", "[::]:7007"};
  std::vector<std::string> hosts = {"/etc/hosts", "/etc/dvpn/hosts.d"};
  hostsdb::SitePrefix site_prefix;
  std::vector<hostsdb::Prefix> vpn_networks = {*hostsdb::Prefix::parse("10.0.0.0/8").prefix};
  std::vector<hostsdb::Prefix> local_subnets;
  SshConfig ssh;
  unsigned max_connections = 20000;                 // limits.max_connections
  Duration shutdown_grace = std::chrono::seconds(10);  // limits.shutdown_grace
  // limits.client_keepalive: TCP keepalive on LAN client sockets (0 = off),
  // so a client that vanished (a laptop gone to sleep) frees its channel.
  Duration client_keepalive = std::chrono::seconds(60);
  // limits.idle_timeout: a connection that moved no byte either way for this
  // long is reset (0 = never). Long enough for an interactive ssh left idle.
  Duration connection_idle_timeout = std::chrono::hours(2);
  // limits.buffer_budget: bytes all channels' receive windows may grow by
  // together, beyond the small window each opens with (dvpn.yaml(5)).
  std::uint64_t buffer_budget = 64u << 20;
  LogLevel log_level = LogLevel::info;
  LogTarget log_target = LogTarget::stderr_;
  std::string control_socket = "/run/dvpn/control.sock";
  // metrics_listen: ADDRESS:PORT of the Prometheus HTTP listener ("" = none).
  std::string metrics_listen;
  std::string run_as = "dvpnd";                     // "" = keep the starting user
  std::vector<RelayListen> relay_listen;
};

// A config error: "FILE:LINE:COL: what was wrong, expected FORM".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and validates a YAML file; throws ConfigError. An empty file gives the defaults.
Config load_config_file(const std::string& path);
// The same from text already in memory (`name` is used in messages).
Config parse_config(const std::string& text, const std::string& name);

// Value parsers shared with the rest of the daemon; nullopt if malformed.
std::optional<Duration> parse_duration(std::string_view text);  // "5s" "250ms" "1m" "2h"
std::optional<std::uint64_t> parse_size(std::string_view text); // "65536" "64KiB" "1MiB" "1GiB"

// Checks an ssh.command template: "" if it has {host} and {port} and no other
// {word} placeholder, else what is wrong ("has no {port} placeholder").
std::string check_command_template(std::string_view command);

// The spellings the config file uses, for --check and log output.
const char* to_string(HostKeyPolicy policy) noexcept;
const char* to_string(LogLevel level) noexcept;
const char* to_string(LogTarget target) noexcept;

}  // namespace dvpn::config
