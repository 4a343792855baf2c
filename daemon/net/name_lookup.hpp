#pragma once
// Name lookups that cannot hold one another up. Boost 1.81 runs every
// async_resolve of the process on one internal thread, so one name whose DNS
// server does not answer would delay every other gateway's setup. Here each
// lookup runs getaddrinfo on a short-lived thread of its own, and a cap
// bounds the threads a dead DNS server can pile up.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dvpn::net {

// getaddrinfo's result: its error code (0 on success) and the IPv4 and IPv6
// addresses in the order it gave them.
using LookupDone = std::function<void(int gai_error, std::vector<boost::asio::ip::tcp::endpoint>)>;

// Looks up host:port and posts `done` to `executor`. getaddrinfo cannot be
// cancelled: `done` should hold only a weak reference to its caller, whose
// own deadline bounds the wait. Returns "" once started, else why not.
std::string lookup_async(const std::string& host, std::uint16_t port, boost::asio::any_io_executor executor,
                         LookupDone done);

}  // namespace dvpn::net
