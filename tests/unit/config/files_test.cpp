// Loading from files: the fixtures under tests/fixtures/config, the shipped
// examples, and files that cannot be read.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check_defaults.hpp"
#include "config.hpp"
#include "hosts_parser.hpp"

using namespace dvpn::config;
using namespace std::chrono_literals;
using dvpn::config::testing::check_defaults;
using dvpn::config::testing::prefix;
namespace fs = std::filesystem;

namespace {

fs::path fixtures() {
  const char* dir = std::getenv("DVPN_FIXTURES");
  REQUIRE_MESSAGE(dir != nullptr, "DVPN_FIXTURES is not set (run through meson test)");
  return fs::path(dir) / "config";
}

const fs::path examples{DVPN_EXAMPLES_DIR};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every bad fixture fails with the message its first line expects") {
  const auto files = yaml_files(fixtures() / "bad");
  CHECK(files.size() >= 18);
  for (const auto& file : files) {
    CAPTURE(file);
    const auto text = slurp(file);
    const std::string marker = "# expect: ";
    REQUIRE(text.starts_with(marker));
    const auto expected = file.string() + ":" + text.substr(marker.size(), text.find('\n') - marker.size());
    std::string got = "(no error)";
    try {
      load_config_file(file.string());
    } catch (const ConfigError& e) {
      got = e.what();
    }
    CHECK(got == expected);
  }
}

TEST_CASE("the empty, comment-only and empty-section fixtures give the defaults") {
  for (const char* name : {"empty.yaml", "comments_only.yaml", "empty_sections.yaml"}) {
    CAPTURE(name);
    const auto path = (fixtures() / "good" / name).string();
    const auto c = load_config_file(path);
    CHECK(c.path == path);
    check_defaults(c);
  }
}

TEST_CASE("the full fixture sets every key") {
  const auto path = (fixtures() / "good" / "full.yaml").string();
  const auto c = load_config_file(path);
  CHECK(c.path == path);
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:7100", "[::1]:7100"});
  CHECK(c.hosts == std::vector<std::string>{"/srv/dvpn/hosts", "/srv/dvpn/hosts.d"});
  CHECK(c.site_prefix.ipv4 == 16);
  CHECK(c.site_prefix.ipv6 == 56);
  CHECK(c.vpn_networks ==
        std::vector<dvpn::hostsdb::Prefix>{prefix("10.0.0.0/8"), prefix("172.16.0.0/12"), prefix("fd00::/8")});
  CHECK(c.local_subnets == std::vector<dvpn::hostsdb::Prefix>{prefix("10.7.0.0/16")});
  CHECK(c.ssh.user == "tunnel");
  CHECK(c.ssh.port == 2222);
  CHECK(c.ssh.identity == "/srv/dvpn/id_ed25519");
  CHECK(c.ssh.known_hosts == "/srv/dvpn/known_hosts");
  CHECK(c.ssh.host_key_policy == HostKeyPolicy::accept_new);
  CHECK(c.ssh.mode == dvpn::hostsdb::Mode::direct);
  CHECK(c.ssh.command == "busybox nc {host} {port}");
  CHECK(c.ssh.connect_timeout == 750ms);
  CHECK(c.ssh.keepalive == 1min);
  CHECK(c.ssh.max_channels_per_session == 30);
  CHECK(c.ssh.max_direct_channels_per_session == 500);
  CHECK(c.ssh.max_sessions_per_gateway == 4);
  CHECK(c.ssh.idle_timeout == 5min);
  CHECK(c.ssh.probe_interval == 10s);
  CHECK(c.ssh.window_size == 256u << 10);
  CHECK(c.max_connections == 5000);
  CHECK(c.shutdown_grace == 30s);
  CHECK(c.client_keepalive == 2min);
  CHECK(c.connection_idle_timeout == 8h);
  CHECK(c.log_level == LogLevel::warning);
  CHECK(c.log_target == LogTarget::syslog);
  CHECK(c.control_socket == "/srv/dvpn/control.sock");
  CHECK(c.metrics_listen == "127.0.0.1:9107");
  CHECK(c.run_as == "nobody");
  REQUIRE(c.relay_listen.size() == 1);
  CHECK(c.relay_listen[0].relay.host == "relay.example.net");
  CHECK(c.relay_listen[0].port == 2201);
}

TEST_CASE("examples/dvpn.yaml loads and spells out the defaults, hosts aside") {
  const auto path = (examples / "dvpn.yaml").string();
  auto c = load_config_file(path);
  // hosts names the example map beside it, so --check works on a fresh checkout.
  CHECK(c.hosts == std::vector<std::string>{"/etc/hosts", "hosts"});
  c.hosts = dvpn::config::Config{}.hosts;
  check_defaults(c);
}

TEST_CASE("examples/dvpn.yaml documents every key with a comment") {
  const auto text = slurp(examples / "dvpn.yaml");
  const std::vector<std::string> keys = {
      "listen", "hosts", "site_prefix", "vpn_networks", "local_subnets", "ssh", "user", "port",
      "identity", "known_hosts", "host_key_policy", "mode", "command", "connect_timeout", "keepalive",
      "max_channels_per_session", "max_direct_channels_per_session", "max_sessions_per_gateway",
      "warm_sessions", "idle_timeout", "probe_interval", "window_size", "limits", "max_connections", "shutdown_grace",
      "client_keepalive", "buffer_budget",
      "log", "level",
      "target", "control_socket", "metrics_listen", "run_as", "relay_listen"};
  for (const auto& key : keys) {
    CAPTURE(key);
    const auto at = text.find("\n" + key + ":") != std::string::npos ? text.find("\n" + key + ":")
                                                                      : text.find("\n  " + key + ":");
    REQUIRE(at != std::string::npos);
    // Each leaf key (and each section with values inline) has a comment line
    // right above it; ssh, limits and log are headings for commented keys.
    if (key == "ssh" || key == "limits" || key == "log") continue;
    const auto line_start = text.rfind('\n', at - 1);
    const auto previous = text.substr(line_start + 1, at - line_start - 1);
    CHECK(previous.find_first_not_of(' ') != std::string::npos);
    CHECK(previous[previous.find_first_not_of(' ')] == '#');
  }
}

TEST_CASE("examples/hosts holds four valid sites: IPv4, direct with subnet=, IPv6, a fallback through a relay") {
  const auto path = (examples / "hosts").string();
  dvpn::hostsdb::Diagnostics diags;
  const auto sites = dvpn::hostsdb::parse_hosts_text(slurp(path), path, dvpn::hostsdb::SitePrefix{}, diags);
  CHECK(diags.empty());
  REQUIRE(sites.size() == 4);

  CHECK(sites[0].name == "thursday");
  CHECK(sites[0].paths[0].target.host == "203.0.113.7");
  CHECK_FALSE(sites[0].mode.has_value());
  CHECK(sites[0].subnets == std::vector<dvpn::hostsdb::Prefix>{prefix("10.0.3.0/24")});

  CHECK(sites[1].name == "friday");
  CHECK(sites[1].paths[0].target.user == "dvpn");
  CHECK(sites[1].paths[0].target.host == "gw.friday.example");
  CHECK(sites[1].paths[0].target.port == 2222);
  CHECK(sites[1].mode == dvpn::hostsdb::Mode::direct);
  CHECK(sites[1].subnets == std::vector<dvpn::hostsdb::Prefix>{prefix("10.0.4.0/23")});

  CHECK(sites[2].name == "saturday");
  CHECK(sites[2].paths[0].target.host == "2001:db8::5");
  CHECK(sites[2].paths[0].target.port == 22);
  CHECK(sites[2].subnets == std::vector<dvpn::hostsdb::Prefix>{prefix("fd00:5::/64")});

  CHECK(sites[3].name == "sunday");
  REQUIRE(sites[3].paths.size() == 2);
  CHECK_FALSE(sites[3].paths[0].relay);
  CHECK(sites[3].paths[0].target.host == "home.sunday.example");
  REQUIRE(sites[3].paths[1].relay);
  CHECK(sites[3].paths[1].relay->user == "dvpn");
  CHECK(sites[3].paths[1].relay->host == "relay.example.net");
  CHECK(sites[3].paths[1].target.host == "127.0.0.1");
  CHECK(sites[3].paths[1].target.port == 2201);
  CHECK(sites[3].subnets == std::vector<dvpn::hostsdb::Prefix>{prefix("10.0.6.0/24")});
}

TEST_CASE("a missing file is reported with the system's reason") {
  const auto path = (fixtures() / "no-such-file.yaml").string();
  CHECK_THROWS_WITH_AS(load_config_file(path), (path + ": cannot read: No such file or directory").c_str(),
                       ConfigError);
}

TEST_CASE("a directory is not a config file") {
  const auto path = (fixtures() / "good").string();
  CHECK_THROWS_WITH_AS(load_config_file(path), (path + ": cannot read: Is a directory").c_str(), ConfigError);
}

TEST_CASE("a file larger than 1 MiB is refused before parsing") {
  const auto path = fs::temp_directory_path() / ("dvpn-config-test-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "# " << std::string((1 << 20) + 10, 'x') << "\n";
  }
  CHECK_THROWS_WITH_AS(load_config_file(path.string()),
                       (path.string() + ": cannot read: larger than 1 MiB, not a config file").c_str(), ConfigError);
  fs::remove(path);
}
