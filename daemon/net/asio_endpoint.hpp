#pragma once
// hostsdb::IpEndpoint as the Asio endpoint a listener binds: the config's
// ADDRESS:PORT texts are parsed by IpEndpoint only, never by Asio, so the
// daemon binds exactly what `--check` and `--firewall-params` accepted.
#include <boost/asio/ip/tcp.hpp>

#include "ip_endpoint.hpp"

namespace dvpn::net {

// An IPv4 (IPv4-mapped) address gives an IPv4 endpoint, so it binds an
// AF_INET socket, as the config's "0.0.0.0:7007" means.
boost::asio::ip::tcp::endpoint to_asio(const hostsdb::IpEndpoint& endpoint);

}  // namespace dvpn::net
