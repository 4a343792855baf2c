// dvpnd: parses the command line, loads the config and the hosts map, and
// either answers a one-shot question (--check, --lookup, ...) or runs the server.
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <libssh2.h>

#include "cli.hpp"
#include "config.hpp"
#include "control.hpp"
#include "firewall_params.hpp"
#include "loader.hpp"
#include "log.hpp"
#include "lookup.hpp"
#include "server.hpp"
#include "ssh/ctr_keystream.hpp"
#include "ssh/identity.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_runtime = 1;
constexpr int exit_usage = 2;

// Paths in the config are relative to the config file's directory, so an
// example tree works wherever it is checked out.
void anchor_paths(dvpn::config::Config& cfg) {
  if (cfg.path.empty()) return;
  auto base = std::filesystem::absolute(cfg.path).parent_path();
  auto anchor = [&](std::string& path) {
    if (!path.empty() && std::filesystem::path(path).is_relative()) path = (base / path).lexically_normal().string();
  };
  for (auto& source : cfg.hosts) anchor(source);
  anchor(cfg.ssh.identity);
  anchor(cfg.ssh.known_hosts);
  anchor(cfg.control_socket);
}

dvpn::log::Level log_level(dvpn::config::LogLevel level) {
  switch (level) {
    case dvpn::config::LogLevel::debug: return dvpn::log::Level::debug;
    case dvpn::config::LogLevel::info: return dvpn::log::Level::info;
    case dvpn::config::LogLevel::warning: return dvpn::log::Level::warning;
    case dvpn::config::LogLevel::error: return dvpn::log::Level::error;
  }
  return dvpn::log::Level::info;
}

// Each connection holds a client socket; the soft limit on open files
// (often 1024) would cap max_connections long before memory does.
void raise_file_limit(unsigned max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t needed = static_cast<rlim_t>(max_connections) + 64;  // + sessions, listeners, logs
  if (limit.rlim_cur < needed) {
    DVPN_LOG(warning) << "open-file limit " << limit.rlim_cur << " is below max_connections (" << max_connections
                      << ") + 64; raise it (LimitNOFILE=, ulimit -n) or lower limits.max_connections";
  }
}

void drop_privileges(const std::string& user) {
  if (user.empty() || geteuid() != 0) return;
  const passwd* pw = getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("run_as: no such user \"" + user + "\"");
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
    throw std::runtime_error("cannot drop privileges to \"" + user + "\"");
}

// Started with capabilities but not as root (systemd's AmbientCapabilities=
// CAP_NET_BIND_SERVICE for a port below 1024): once the listeners are bound
// nothing needs them, so none stays for the rest of the run. Root keeps root
// (run_as drops it all at once).
void drop_capabilities() {
  if (geteuid() == 0) return;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL before Linux 4.3: nothing to clear
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, caps) != 0) return;
  bool any = false;
  for (const auto& c : caps) any |= (c.permitted | c.effective | c.inheritable) != 0;
  if (!any) return;
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capset, &header, none) != 0) {
    DVPN_LOG(warning) << "cannot drop capabilities after binding the listeners: " << std::strerror(errno)
                      << " (a seccomp filter without capset?)";
  } else {
    DVPN_LOG(debug) << "capabilities dropped after binding the listeners";
  }
}

int check(const dvpn::config::Config& cfg, const dvpn::hostsdb::LoadResult& hosts) {
  int problems = static_cast<int>(hosts.diags.size());
  for (const auto& diag : hosts.diags) std::cerr << diag.to_string() << "\n";
  // Accounts and keys are made at deployment; --check also serves before that.
  if (!cfg.run_as.empty() && !getpwnam(cfg.run_as.c_str())) {
    std::cout << "note: run_as user \"" << cfg.run_as << "\" does not exist yet (useradd --system " << cfg.run_as
              << "); dvpnd will refuse to start without it\n";
  }
  if (std::filesystem::exists(cfg.ssh.identity)) {
    if (auto problem = dvpn::ssh::identity_problem(cfg.ssh.identity)) {
      std::cerr << *problem << "\n";
      ++problems;
    }
  } else {
    std::cout << "note: identity " << cfg.ssh.identity << " does not exist yet (ssh-keygen -t ed25519 -N '' -f "
              << cfg.ssh.identity << ")\n";
  }
  if (problems) {
    std::cerr << cfg.path << ": " << problems << " problem" << (problems == 1 ? "" : "s") << "\n";
    return exit_usage;
  }
  std::cout << cfg.path << ": ok, " << hosts.table.size() << " sites\n";
  return exit_ok;
}

// Starts the daemon on a loaded config and hosts map; returns only on failure.
int serve(const dvpn::Options& opts, const dvpn::config::Config& cfg, dvpn::hostsdb::LoadResult hosts) {
  dvpn::log::setup(log_level(cfg.log_level),
                   cfg.log_target == dvpn::config::LogTarget::syslog && !opts.foreground ? dvpn::log::Target::syslog
                                                                                         : dvpn::log::Target::stderr_);
  for (const auto& diag : hosts.diags) DVPN_LOG(warning) << diag.to_string();
  if (hosts.has_errors()) {
    std::cerr << "dvpnd: error: cannot read every hosts source (see above)\n";
    return exit_usage;
  }
  if (auto problem = dvpn::ssh::identity_problem(cfg.ssh.identity)) {
    std::cerr << "dvpnd: error: " << *problem << "\n";
    return exit_usage;
  }
  try {
    raise_file_limit(cfg.max_connections);
    libssh2_init(0);  // once, before any thread starts
    if (dvpn::ssh::ctr_keystream_active())
      DVPN_LOG(debug) << "aes-ctr: keystream batched (libssh2's per-block EVP_Cipher calls served from 4 KiB)";
    else
      DVPN_LOG(warning) << "aes-ctr: keystream batching not in effect; libssh2 encrypts block by block (slower)";
    auto table = std::make_shared<const dvpn::hostsdb::RouteTable>(std::move(hosts.table));
    dvpn::Server server(cfg, std::move(table));
    drop_privileges(cfg.run_as);
    drop_capabilities();
    // Every session reads the key again as the account we now run as.
    if (access(cfg.ssh.identity.c_str(), R_OK) != 0)
      throw std::runtime_error(cfg.ssh.identity + ": not readable as the account dvpnd runs as (run_as: \"" +
                               cfg.run_as + "\"); chown it to that account");
    int code = server.run();
    std::fflush(nullptr);
    // Connections cut at the end of the grace period are already set to
    // reset; skip tearing down libssh2 sessions of a process that is leaving.
    _exit(code);
  } catch (const std::exception& e) {
    std::cerr << "dvpnd: error: " << e.what() << "\n";
    return exit_runtime;
  }
}

int lookup(const dvpn::Options& opts, const dvpn::config::Config& cfg, const dvpn::hostsdb::LoadResult& hosts) {
  auto query = dvpn::parse_lookup_query(opts.lookup_target);
  if (!query) {
    std::cerr << "dvpnd: --lookup \"" << opts.lookup_target << "\": expected ADDR, ADDR:PORT or [ADDR6]:PORT\n";
    return exit_usage;
  }
  bool found = false;
  std::cout << dvpn::describe_lookup(cfg, hosts.table, *query, found);
  return found ? exit_ok : exit_runtime;
}

int print_firewall_params(const dvpn::config::Config& cfg) {
  try {
    std::cout << dvpn::firewall::params_text(cfg);
  } catch (const std::exception& e) {
    std::cerr << "dvpnd: " << e.what() << "\n";
    return exit_usage;
  }
  return exit_ok;
}

int run(const dvpn::Options& opts) {
  dvpn::config::Config cfg;
  try {
    cfg = dvpn::config::load_config_file(opts.config_path);
  } catch (const dvpn::config::ConfigError& e) {
    std::cerr << "dvpnd: " << e.what() << "\n";
    return exit_usage;
  }
  anchor_paths(cfg);
  using Action = dvpn::Options::Action;
  if (opts.action == Action::status) return dvpn::print_status(cfg.control_socket, opts.json);
  if (opts.action == Action::metrics) return dvpn::print_metrics(cfg.control_socket);
  if (opts.action == Action::firewall_params) return print_firewall_params(cfg);
  dvpn::hostsdb::LoadResult hosts = dvpn::hostsdb::load_sources(cfg.hosts, cfg.site_prefix);
  if (opts.action == Action::check) return check(cfg, hosts);
  if (opts.action == Action::lookup) return lookup(opts, cfg, hosts);
  return serve(opts, cfg, std::move(hosts));
}

}  // namespace

int main(int argc, char** argv) {
  // A log line to a stderr pipe whose reader went away (a closed terminal, a
  // dead log collector) must fail that write, not kill the gateway.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = dvpn::parse_options(args);
  if (!parsed.options) {
    std::cerr << "dvpnd: " << parsed.error << "\n" << dvpn::usage_text();
    return exit_usage;
  }
  const dvpn::Options& opts = *parsed.options;
  switch (opts.action) {
    case dvpn::Options::Action::help:
      std::cout << dvpn::usage_text();
      return exit_ok;
    case dvpn::Options::Action::version:
      std::cout << "dvpnd " << DVPN_VERSION << " (libssh2 " << LIBSSH2_VERSION << ")\n";
      return exit_ok;
    default:
      return run(opts);
  }
}
