#include "relay_dial.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "connection.hpp"
#include "registry.hpp"
#include "ssh/channel_transport.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn::pool {

ssh::Session::Dial relay_dial(Registry& registry, boost::asio::io_context& io, const SshPath& path,
                              std::chrono::milliseconds connect_timeout) {
  using tcp = boost::asio::ip::tcp;
  // Carrier channels are not LAN connections: they count toward neither
  // max_connections nor the drain at shutdown, nor the sites' metrics.
  auto tracker = std::make_shared<ConnectionTracker>();
  auto metrics = std::make_shared<metrics::Registry>();
  return [&registry, &io, path, connect_timeout, tracker, metrics](ssh::Session::Strand& strand,
                                                                    std::string& error) -> std::unique_ptr<ssh::Transport> {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
      error = "no channel through relay " + path.relay->to_string() + ": socketpair: " + std::strerror(errno);
      return nullptr;
    }
    // Asio's stream operations work on any stream descriptor; tcp::socket is
    // what Connection and Tunnel take.
    tcp::socket inner(strand), outer(io);
    boost::system::error_code ec;
    inner.assign(tcp::v4(), fds[0], ec);
    if (!ec) outer.assign(tcp::v4(), fds[1], ec);
    if (ec) {
      if (!inner.is_open()) ::close(fds[0]);
      ::close(fds[1]);
      error = "no channel through relay " + path.relay->to_string() + ": " + ec.message();
      return nullptr;
    }
    auto note = std::make_shared<ssh::CarrierNote>();
    auto carrier = std::make_unique<Connection>(std::move(outer), tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0),
                                                tracker, metrics);
    // The inner session's errors say what matters; the carrier's own line is for debugging.
    carrier->on_finish([note](Ending& ending) {
      note->set(ending.reason);
      ending.quiet = true;
    });
    Target target;
    const SshPath relay{std::nullopt, *path.relay};
    target.endpoint = relay.target;
    target.paths = {relay};
    target.mode = hostsdb::Mode::direct;
    target.port = path.target.port;
    if (auto ip = hostsdb::Ip::parse(path.target.host)) target.ip = *ip;
    else target.direct_host = path.target.host;
    carrier->set_target(std::move(target), nullptr);
    auto tunnel = std::make_shared<ssh::Tunnel>(std::move(carrier), std::chrono::steady_clock::now() + connect_timeout);
    tunnel->carry_session();
    registry.get(relay)->submit(std::move(tunnel));
    return std::make_unique<ssh::ChannelTransport>(std::move(inner), relay.target.to_string(), note);
  };
}

}  // namespace dvpn::pool
