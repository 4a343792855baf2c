#include "probe.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "connection.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn::pool {
namespace {

// The probe's side of the socket pair and its one verdict: the connection's
// end or the timer, whichever comes first.
struct ProbeRun {
  std::mutex mu;
  bool done = false;
  int fd = -1;
  std::function<void(Evidence)> report;
  std::unique_ptr<boost::asio::steady_timer> timer;

  void finish(Evidence evidence) {
    {
      std::lock_guard lock(mu);
      if (done) return;
      done = true;
      ::close(fd);  // the tunnel's client goes away: it ends, if it had not
      timer->cancel();
    }
    report(std::move(evidence));
  }
};

}  // namespace

void run_probe(boost::asio::io_context& io, const std::shared_ptr<EndpointPool>& pool, Target target,
               std::chrono::milliseconds connect_timeout, std::function<void(Evidence)> done) {
  using tcp = boost::asio::ip::tcp;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
    done({Reach::unknown, std::string("socketpair: ") + std::strerror(errno)});
    return;
  }
  ::shutdown(fds[1], SHUT_WR);  // nothing to send: EOF once the channel is open
  tcp::socket client(io);
  boost::system::error_code ec;
  client.assign(tcp::v4(), fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    done({Reach::unknown, "probe socket: " + ec.message()});
    return;
  }
  auto run = std::make_shared<ProbeRun>();
  run->fd = fds[1];
  run->report = std::move(done);
  run->timer = std::make_unique<boost::asio::steady_timer>(io);

  // Not a LAN connection: counted in neither max_connections, the drain at
  // shutdown nor the sites' metrics, and logged at debug level.
  static const auto tracker = std::make_shared<ConnectionTracker>();
  static const auto metrics = std::make_shared<metrics::Registry>();
  auto connection = std::make_unique<Connection>(
      std::move(client), tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0), tracker, metrics);
  const hostsdb::Mode mode = target.mode;
  connection->set_target(std::move(target), nullptr);
  // finish() runs this before the connection can go away, and the timer
  // below reads the connection only under the same lock, while not done.
  Connection* conn = connection.get();
  connection->on_finish([run, conn, mode](Ending& ending) {
    Evidence evidence = judge(mode, ending.reason, conn->channel_was_opened(), conn->bytes_down);
    ending.quiet = true;
    ending.reason = "probe: " + ending.reason;
    run->finish(std::move(evidence));
  });
  const auto limit = 2 * connect_timeout;
  run->timer->expires_after(limit);
  run->timer->async_wait([run, conn, mode, limit](const boost::system::error_code& ec) {
    if (ec) return;
    bool opened;
    {
      std::lock_guard lock(run->mu);
      if (run->done) return;
      opened = conn->channel_was_opened();
    }
    // A direct-tcpip channel is open only once sshd connected.
    if (mode == hostsdb::Mode::direct && opened) run->finish({Reach::reached, {}});
    else run->finish({Reach::unreachable, "no answer within " + std::to_string(limit.count()) + "ms"});
  });
  pool->submit(std::make_shared<ssh::Tunnel>(std::move(connection), std::chrono::steady_clock::now() + connect_timeout),
               /*probe=*/true);
}

}  // namespace dvpn::pool
