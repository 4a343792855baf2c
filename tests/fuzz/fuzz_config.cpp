// libFuzzer target: the config loader (daemon/config/) on any text. A bad
// file must end in ConfigError ("FILE:LINE:COL: ..."); any other exception,
// a crash or a sanitizer report is a bug. The value parsers the loader
// shares with the daemon (durations, sizes, listen addresses, the ssh
// command template) get the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config.hpp"
#include "ip_endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = dvpn::config::parse_config(text, "fuzz.yaml");
    // A loaded config holds what the schema promises.
    if (config.listen.empty() || config.ssh.port == 0) std::abort();
  } catch (const dvpn::config::ConfigError& e) {
    if (std::string_view(e.what()).rfind("fuzz.yaml", 0) != 0) std::abort();  // names the file
  }
  const std::string_view view(text);
  (void)dvpn::config::parse_duration(view);
  (void)dvpn::config::parse_size(view);
  // A listen address prints back to a text that parses to the same value.
  if (const auto endpoint = dvpn::hostsdb::IpEndpoint::parse(view).endpoint) {
    if (dvpn::hostsdb::IpEndpoint::parse(endpoint->to_string()).endpoint != endpoint) std::abort();
  }
  (void)dvpn::config::check_command_template(view);
  return 0;
}
