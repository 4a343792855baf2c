#pragma once
// The destination a client dialled before the firewall's REDIRECT changed it.
#include <optional>

#include "ip_endpoint.hpp"

namespace dvpn::net {

// Reads SO_ORIGINAL_DST (IPv4, also for IPv4 clients on a dual-stack socket)
// or IP6T_SO_ORIGINAL_DST (IPv6) from an accepted socket. nullopt when the
// connection was not redirected: then the kernel reports our own listener,
// and forwarding it would loop back into ourselves.
std::optional<hostsdb::IpEndpoint> original_destination(int fd);

}  // namespace dvpn::net
