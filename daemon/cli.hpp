#pragma once
// The dvpnd command line (dvpnd(8)), parsed without side effects.
#include <optional>
#include <string>
#include <vector>

namespace dvpn {

struct Options {
  enum class Action { run, check, lookup, firewall_params, status, metrics, help, version };
  Action action = Action::run;
  std::string config_path = "/etc/dvpn/dvpn.yaml";
  std::string lookup_target;  // ADDR[:PORT] for --lookup
  bool foreground = false;
  bool json = false;          // --status --json
};

struct ParsedOptions {
  std::optional<Options> options;
  std::string error;  // usage error text when options is empty
};

ParsedOptions parse_options(const std::vector<std::string>& args);
const char* usage_text();

}  // namespace dvpn
