#pragma once
// One probe of a path: a connection of our own, not a LAN client's, to a
// destination of the site, carried like any other by the path's pool in the
// site's own mode. Its client is one end of a local socket pair that sends
// EOF at once: a far-end nc that connected then exits 0 (a clean end), one
// that could not says why (far-end-failed); a direct-tcpip open succeeds
// only once sshd has connected. The end is judged by reach.hpp; no end
// within twice connect_timeout counts as no answer.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>

#include "endpoint_pool.hpp"
#include "reach.hpp"

namespace dvpn::pool {

// Calls `done` once, on any thread.
void run_probe(boost::asio::io_context& io, const std::shared_ptr<EndpointPool>& pool, Target target,
               std::chrono::milliseconds connect_timeout, std::function<void(Evidence)> done);

}  // namespace dvpn::pool
