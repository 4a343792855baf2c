#pragma once
// How a pool of a relayed path (`RELAY>TARGET`) reaches its target: each of
// its sessions gets a direct-tcpip channel of a session to RELAY, to
// TARGET's host and port as the relay sees it, and runs inside it
// (ssh/channel_transport.hpp). The channel is carried by the relay's own pool.
#include <chrono>

#include "ssh/session.hpp"
#include "target.hpp"

namespace dvpn::pool {

class Registry;

// `path.relay` must be set. The registry outlives every session it makes.
ssh::Session::Dial relay_dial(Registry& registry, boost::asio::io_context& io, const SshPath& path,
                              std::chrono::milliseconds connect_timeout);

}  // namespace dvpn::pool
