#include "cli.hpp"

namespace dvpn {

const char* usage_text() {
  return "usage: dvpnd [-c FILE] [--foreground] [--check] [--lookup ADDR[:PORT]]\n"
         "             [--status [--json]] [--metrics] [--firewall-params] [--version] [--help]\n"
         "\n"
         "Transparent TCP-over-SSH gateway: carries connections that the firewall\n"
         "redirects to it over pooled SSH sessions to the remote site's gateway.\n"
         "\n"
         "  -c, --config FILE    configuration (default /etc/dvpn/dvpn.yaml)\n"
         "  -f, --foreground     stay in the foreground, log to stderr\n"
         "      --check          validate the config and hosts map, then exit\n"
         "      --lookup ADDR[:PORT]\n"
         "                       show which site, endpoint, mode and far-end command\n"
         "                       would carry a connection to ADDR, then exit\n"
         "      --status [--json]\n"
         "                       show the running daemon's gateways over the control socket\n"
         "      --metrics        print the running daemon's Prometheus metrics (control socket)\n"
         "      --firewall-params\n"
         "                       print the parameters dvpn-firewall needs, then exit\n"
         "  -V, --version        print the version\n"
         "  -h, --help           print this help\n"
         "\n"
         "Signals: SIGHUP reloads the hosts map; SIGTERM/SIGINT stop accepting and\n"
         "drain connections for limits.shutdown_grace.\n"
         "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.\n";
}

ParsedOptions parse_options(const std::vector<std::string>& args) {
  Options opts;
  bool action_set = false;
  auto set_action = [&](Options::Action action) {
    if (action_set && opts.action != action) return false;
    opts.action = action;
    action_set = true;
    return true;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto next_value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    bool ok = true;
    if (arg == "-c" || arg == "--config") {
      auto value = next_value();
      if (!value) return {std::nullopt, arg + " needs a FILE"};
      opts.config_path = *value;
    } else if (arg == "-f" || arg == "--foreground") {
      opts.foreground = true;
    } else if (arg == "--check") {
      ok = set_action(Options::Action::check);
    } else if (arg == "--lookup") {
      auto value = next_value();
      if (!value) return {std::nullopt, "--lookup needs ADDR[:PORT]"};
      opts.lookup_target = *value;
      ok = set_action(Options::Action::lookup);
    } else if (arg == "--status") {
      ok = set_action(Options::Action::status);
    } else if (arg == "--metrics") {
      ok = set_action(Options::Action::metrics);
    } else if (arg == "--json") {
      opts.json = true;
    } else if (arg == "--firewall-params") {
      ok = set_action(Options::Action::firewall_params);
    } else if (arg == "--version" || arg == "-V") {
      ok = set_action(Options::Action::version);
    } else if (arg == "--help" || arg == "-h") {
      ok = set_action(Options::Action::help);
    } else {
      return {std::nullopt, "unknown option \"" + arg + "\""};
    }
    if (!ok) return {std::nullopt, "options " + arg + " and an earlier action cannot be combined"};
  }
  if (opts.json && opts.action != Options::Action::status) {
    return {std::nullopt, "--json only goes with --status"};
  }
  return {opts, ""};
}

}  // namespace dvpn
