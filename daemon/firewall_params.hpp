#pragma once
// The parameters firewall/dvpn-firewall needs, taken from the daemon's own
// config parser so the shell script never parses YAML (`dvpnd --firewall-params`).
#include <string>

#include "config.hpp"

namespace dvpn::firewall {

// Renders `cfg` as "key=value" lines for dvpn-firewall to read without eval:
//   format=1
//   listen_ports=7007 7008          unique ports of `listen`, in config order
//   vpn_networks_v4=10.0.0.0/8      space-separated CIDRs, per family
//   vpn_networks_v6=
//   local_subnets_v4=10.1.0.0/16
//   local_subnets_v6=
//   run_as=dvpnd                    "" when the daemon keeps its starting user
//   run_as_uid=998                  numeric uid of run_as, "" when run_as is ""
// Every value is limited to [A-Za-z0-9_.:/ -]. Throws config::ConfigError when
// a listen entry is not an ADDRESS:PORT the config accepts (hostsdb::IpEndpoint)
// or run_as names no account.
std::string params_text(const config::Config& cfg);

}  // namespace dvpn::firewall
