// The schema of dvpn.yaml (see dvpn.yaml(5)): which keys exist, their forms and
// ranges. yaml_reader.cpp does the walking and the wording of errors.
#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "ip_endpoint.hpp"
#include "yaml_reader.hpp"

namespace dvpn::config {

namespace {

using namespace std::chrono_literals;
using detail::fail;
using detail::Field;
using detail::quote;
using detail::read_duration;
using detail::read_enum;
using detail::read_integer;
using detail::read_list;
using detail::read_mapping;
using detail::read_nonempty_text;
using detail::read_text;

constexpr std::size_t max_file_size = 1 << 20;  // a config file, not a data set
constexpr std::size_t max_socket_path = sizeof(sockaddr_un::sun_path) - 1;

bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

std::vector<std::string> read_listen(const Field& field) {
  constexpr std::string_view item_form =
      "ADDRESS:PORT with an IP address and a port from 1 to 65535, IPv6 in brackets like [::]:7007";
  std::vector<std::string> texts;
  std::vector<hostsdb::IpEndpoint> addresses;
  read_list(field, R"(a list of ADDRESS:PORT like ["0.0.0.0:7007", "[::]:7007"])", false,
            [&](const Field& item) {
              auto text = read_text(item, item_form);
              const auto address = hostsdb::IpEndpoint::parse(text).endpoint;
              if (!address) fail(item, "is " + quote(text), item_form);
              for (std::size_t i = 0; i < addresses.size(); ++i) {
                if (addresses[i] == *address)
                  fail(item, "is " + quote(text) + ", the same address as " + field.path + "[" +
                                 std::to_string(i) + "]",
                       "each address once");
              }
              addresses.push_back(*address);
              texts.push_back(std::move(text));
            });
  return texts;
}

std::vector<std::string> read_hosts(const Field& field) {
  std::vector<std::string> paths;
  read_list(field, "a list of files or directories like [/etc/hosts, /etc/dvpn/hosts.d]", false,
            [&](const Field& item) {
              paths.push_back(read_nonempty_text(item, "a path to a hosts file or directory"));
            });
  return paths;
}

std::vector<hostsdb::Prefix> read_prefixes(const Field& field, bool allow_empty) {
  constexpr std::string_view item_form = "a CIDR prefix like 10.0.0.0/8 or fd00::/8";
  std::vector<hostsdb::Prefix> prefixes;
  read_list(field, "a list of CIDR prefixes like [10.0.0.0/8, fd00::/8]", allow_empty,
            [&](const Field& item) {
              const auto text = read_text(item, item_form);
              auto parsed = hostsdb::Prefix::parse(text);
              if (!parsed.prefix) {
                // hostsdb's text says what was wrong (or starts at "expected").
                const bool bare = parsed.error.starts_with("expected");
                detail::fail_at(*item.file, item.mark,
                                item.path + " is " + quote(text) + (bare ? ", " : ": ") + parsed.error);
              }
              prefixes.push_back(*parsed.prefix);
            });
  return prefixes;
}

std::string read_login(const Field& field) {
  constexpr std::string_view form = "a login name like dvpn";
  auto text = read_nonempty_text(field, form);
  if (has_space_or_control(text)) fail(field, "is " + quote(text), form);
  return text;
}

std::string read_run_as(const Field& field) {
  constexpr std::string_view form = "a local user name like dvpnd, or \"\" to keep the starting user";
  auto text = read_text(field, form);
  if (has_space_or_control(text) || text.find_first_of(":/") != std::string::npos)
    fail(field, "is " + quote(text), form);
  return text;
}

std::string read_command(const Field& field) {
  constexpr std::string_view form = R"(a command with {host} and {port} like "nc {host} {port}")";
  auto text = read_text(field, form);
  const auto problem = check_command_template(text);
  if (!problem.empty()) fail(field, quote(text) + " " + problem, form);
  return text;
}

Duration read_keepalive(const Field& field) {
  const auto value = read_duration(field, 0s, 1h);
  // libssh2 counts keepalive intervals in whole seconds.
  if (value.count() % 1000 != 0)
    fail(field, "is " + field.node.Scalar() + ", not whole seconds",
         "a duration in whole seconds like 15s, or 0s to disable");
  return value;
}

std::string read_socket_path(const Field& field) {
  constexpr std::string_view form = "a path for the control socket like /run/dvpn/control.sock";
  auto text = read_nonempty_text(field, form);
  if (text.size() > max_socket_path)
    fail(field, "is " + quote(text) + ", " + std::to_string(text.size()) + " bytes long",
         "a path of at most " + std::to_string(max_socket_path) + " bytes");
  return text;
}

std::string read_metrics_listen(const Field& field) {
  constexpr std::string_view form =
      "ADDRESS:PORT like 127.0.0.1:9107 (IPv6 in brackets), or \"\" for no metrics listener";
  auto text = read_text(field, form);
  if (!text.empty() && !hostsdb::IpEndpoint::parse(text).endpoint) fail(field, "is " + quote(text), form);
  return text;
}

std::vector<RelayListen> read_relay_listen(const Field& field) {
  constexpr std::string_view list_form =
      "a list of mappings like {relay: dvpn@relay.example.net:22, port: 2201, to: 127.0.0.1:22}";
  std::vector<RelayListen> items;
  read_list(field, list_form, true, [&](const Field& item) {
    RelayListen entry;
    bool has_relay = false, has_port = false;
    read_mapping(
        item,
        {
            {"relay",
             [&](const Field& v) {
               constexpr std::string_view form = "[user@]host[:port] of the relay's sshd";
               const auto text = read_nonempty_text(v, form);
               const auto error = hostsdb::parse_ssh_endpoint(text, entry.relay);
               if (!error.empty()) fail(v, "is " + quote(text) + ": " + error, form);
               has_relay = true;
             }},
            // The relay's jail gives B exactly one port; below 1024 is sshd's to refuse anyway.
            {"port",
             [&](const Field& v) {
               entry.port = static_cast<std::uint16_t>(read_integer(v, 1024, 65535));
               has_port = true;
             }},
            {"to",
             [&](const Field& v) {
               constexpr std::string_view form = "ADDRESS:PORT of this gateway's sshd like 127.0.0.1:22";
               const auto text = read_text(v, form);
               const auto address = hostsdb::IpEndpoint::parse(text).endpoint;
               if (!address) fail(v, "is " + quote(text), form);
               entry.to = *address;
             }},
        },
        list_form);
    if (!has_relay) fail(item, "has no relay", "relay: [user@]host[:port] of the relay's sshd");
    if (!has_port) fail(item, "has no port", "port: the relay's loopback port, 1024-65535");
    items.push_back(std::move(entry));
  });
  return items;
}

void read_ssh(const Field& field, SshConfig& ssh) {
  read_mapping(
      field,
      {
          {"user", [&](const Field& v) { ssh.user = read_login(v); }},
          {"port",
           [&](const Field& v) { ssh.port = static_cast<std::uint16_t>(read_integer(v, 1, 65535)); }},
          {"identity",
           [&](const Field& v) { ssh.identity = read_nonempty_text(v, "a path to a private key file"); }},
          {"known_hosts",
           [&](const Field& v) {
             ssh.known_hosts = read_nonempty_text(v, "a path to a known_hosts file");
           }},
          {"host_key_policy",
           [&](const Field& v) {
             ssh.host_key_policy = read_enum<HostKeyPolicy>(
                 v, {{"strict", HostKeyPolicy::strict}, {"accept-new", HostKeyPolicy::accept_new}});
           }},
          {"mode",
           [&](const Field& v) {
             ssh.mode = read_enum<hostsdb::Mode>(
                 v, {{"netcat", hostsdb::Mode::netcat}, {"direct", hostsdb::Mode::direct}});
           }},
          {"command", [&](const Field& v) { ssh.command = read_command(v); }},
          {"connect_timeout", [&](const Field& v) { ssh.connect_timeout = read_duration(v, 1ms, 1h); }},
          {"keepalive", [&](const Field& v) { ssh.keepalive = read_keepalive(v); }},
          {"max_channels_per_session",
           [&](const Field& v) {
             ssh.max_channels_per_session = static_cast<unsigned>(read_integer(v, 1, 1000));
           }},
          {"max_direct_channels_per_session",
           [&](const Field& v) {
             ssh.max_direct_channels_per_session = static_cast<unsigned>(read_integer(v, 1, 100'000));
           }},
          {"max_sessions_per_gateway",
           [&](const Field& v) {
             ssh.max_sessions_per_gateway = static_cast<unsigned>(read_integer(v, 1, 1000));
           }},
          {"warm_sessions",
           [&](const Field& v) { ssh.warm_sessions = static_cast<unsigned>(read_integer(v, 0, 1000)); }},
          {"idle_timeout", [&](const Field& v) { ssh.idle_timeout = read_duration(v, 1ms, 24h); }},
          {"probe_interval", [&](const Field& v) { ssh.probe_interval = read_duration(v, 100ms, 1h); }},
          {"window_size",
           [&](const Field& v) {
             ssh.window_size = static_cast<std::uint32_t>(detail::read_size(v, 32u << 10, 16u << 20));
           }},
      },
      "a mapping of ssh settings");
}

void read_root(const Field& root, Config& config) {
  read_mapping(
      root,
      {
          {"listen", [&](const Field& v) { config.listen = read_listen(v); }},
          {"hosts", [&](const Field& v) { config.hosts = read_hosts(v); }},
          {"site_prefix",
           [&](const Field& v) {
             read_mapping(v,
                          {{"ipv4",
                            [&](const Field& n) {
                              config.site_prefix.ipv4 = static_cast<std::uint8_t>(read_integer(n, 0, 32));
                            }},
                           {"ipv6",
                            [&](const Field& n) {
                              config.site_prefix.ipv6 = static_cast<std::uint8_t>(read_integer(n, 0, 128));
                            }}},
                          "a mapping like {ipv4: 24, ipv6: 64}");
           }},
          {"vpn_networks", [&](const Field& v) { config.vpn_networks = read_prefixes(v, false); }},
          {"local_subnets", [&](const Field& v) { config.local_subnets = read_prefixes(v, true); }},
          {"ssh", [&](const Field& v) { read_ssh(v, config.ssh); }},
          {"limits",
           [&](const Field& v) {
             read_mapping(v,
                          {{"max_connections",
                            [&](const Field& n) {
                              config.max_connections = static_cast<unsigned>(read_integer(n, 1, 1'000'000));
                            }},
                           {"shutdown_grace",
                            [&](const Field& n) { config.shutdown_grace = read_duration(n, 0s, 1h); }},
                           {"client_keepalive",
                            [&](const Field& n) { config.client_keepalive = read_duration(n, 0s, 24h); }},
                           {"idle_timeout",
                            [&](const Field& n) { config.connection_idle_timeout = read_duration(n, 0s, 720h); }},
                           {"buffer_budget",
                            [&](const Field& n) { config.buffer_budget = detail::read_size(n, 0, 16ull << 30); }}},
                          "a mapping like {max_connections: 20000, shutdown_grace: 10s, idle_timeout: 2h, "
                          "buffer_budget: 64MiB}");
           }},
          {"log",
           [&](const Field& v) {
             read_mapping(v,
                          {{"level",
                            [&](const Field& n) {
                              config.log_level = read_enum<LogLevel>(n, {{"debug", LogLevel::debug},
                                                                         {"info", LogLevel::info},
                                                                         {"warning", LogLevel::warning},
                                                                         {"error", LogLevel::error}});
                            }},
                           {"target",
                            [&](const Field& n) {
                              config.log_target = read_enum<LogTarget>(
                                  n, {{"stderr", LogTarget::stderr_}, {"syslog", LogTarget::syslog}});
                            }}},
                          "a mapping like {level: info, target: stderr}");
           }},
          {"control_socket", [&](const Field& v) { config.control_socket = read_socket_path(v); }},
          {"metrics_listen", [&](const Field& v) { config.metrics_listen = read_metrics_listen(v); }},
          {"run_as", [&](const Field& v) { config.run_as = read_run_as(v); }},
          {"relay_listen", [&](const Field& v) { config.relay_listen = read_relay_listen(v); }},
      },
      "a mapping of settings (key: value lines)");
}

// Closes a file descriptor on every way out.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

std::string read_file(const std::string& path) {
  const auto cannot_read = [&](const std::string& why) { return ConfigError(path + ": cannot read: " + why); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw cannot_read(errno_text(errno));
  const FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw cannot_read(errno_text(errno));
  if (S_ISDIR(st.st_mode)) throw cannot_read(errno_text(EISDIR));

  std::string text;
  char buffer[8192];
  for (;;) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw cannot_read(errno_text(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_file_size) throw cannot_read("larger than 1 MiB, not a config file");
  }
  return text;
}

}  // namespace

Config parse_config(const std::string& text, const std::string& name) {
  Config config;
  config.path = name;
  const auto root = detail::load_document(text, name);  // null when empty or only comments
  read_root(Field{&name, root, root.Mark(), ""}, config);
  return config;
}

Config load_config_file(const std::string& path) { return parse_config(read_file(path), path); }

}  // namespace dvpn::config
