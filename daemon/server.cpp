#include "server.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "loader.hpp"
#include "log.hpp"
#include "metrics/render.hpp"
#include "net/asio_endpoint.hpp"
#include "net/original_dst.hpp"
#include "notify.hpp"
#include "net/socket_options.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn {
namespace {

constexpr auto accept_backoff = std::chrono::milliseconds(100);
constexpr auto drain_poll = std::chrono::milliseconds(100);

pool::Limits limits_from(const config::Config& cfg) {
  pool::Limits limits;
  limits.exec_channels_per_session = cfg.ssh.max_channels_per_session;
  limits.direct_channels_per_session = cfg.ssh.max_direct_channels_per_session;
  limits.sessions = cfg.ssh.max_sessions_per_gateway;
  // Limits' spread (four streams), or one session per core if there are more.
  limits.spread_sessions =
      std::min(cfg.ssh.max_sessions_per_gateway, std::max(limits.spread_sessions, std::thread::hardware_concurrency()));
  limits.warm_sessions = std::min(cfg.ssh.warm_sessions, cfg.ssh.max_sessions_per_gateway);
  limits.idle_timeout = cfg.ssh.idle_timeout;
  limits.connect_timeout = cfg.ssh.connect_timeout;
  return limits;
}

// Where a connection was going, before (or without) a site to carry it.
Target unrouted(const hostsdb::IpEndpoint& destination) {
  Target target;
  target.ip = destination.ip;
  target.port = destination.port;
  return target;
}

// The config checked these texts at load; a Config built otherwise fails
// here, by the same parser.
boost::asio::ip::tcp::endpoint listen_endpoint(const char* key, const std::string& text) {
  const auto parsed = hostsdb::IpEndpoint::parse(text);
  if (!parsed.endpoint) throw std::runtime_error(std::string(key) + " \"" + text + "\": " + parsed.error);
  return net::to_asio(*parsed.endpoint);
}

}  // namespace

Server::Server(config::Config cfg, hostsdb::RouteTablePtr table)
    : cfg_(std::move(cfg)), table_(std::move(table)), signals_(io_), drain_timer_(io_) {
  auto settings = std::make_shared<const ssh::SessionSettings>(ssh::SessionSettings::from(cfg_));
  gateways_ = std::make_unique<pool::Registry>(io_, settings, limits_from(cfg_), cfg_.ssh.probe_interval);
  for (const auto& entry : cfg_.relay_listen)
    relay_listeners_.push_back(
        std::make_shared<RelayListener>(io_, endpoint_with_defaults(cfg_, entry.relay), entry, settings));
  for (const auto& listen : cfg_.listen) bind(listen);
  if (!cfg_.control_socket.empty())
    control_ = std::make_unique<ControlServer>(io_, cfg_.control_socket, [this] { return snapshot(); },
                                               [this] { return metrics_page(); });
  if (!cfg_.metrics_listen.empty())
    metrics_http_ = std::make_unique<metrics::HttpServer>(io_, listen_endpoint("metrics_listen", cfg_.metrics_listen),
                                                          [this] { return metrics_page(); });
}

std::string Server::metrics_page() { return metrics::render(*metrics_, snapshot(), DVPN_VERSION); }

StatusSnapshot Server::snapshot() {
  StatusSnapshot snap;
  snap.live_connections = tracker_->live();
  const auto table = table_.load();
  snap.sites = table->size();
  gateways_->for_each([&snap](pool::EndpointPool& g) { snap.gateways.push_back(g.stats()); });
  for (const auto& relay : relay_listeners_) {
    const auto s = relay->status();
    const auto now = RelayListener::Clock::now();
    auto age = [now](const std::optional<RelayListener::Clock::time_point>& then) {
      return then ? std::optional(std::chrono::duration_cast<std::chrono::milliseconds>(now - *then))
                  : std::nullopt;
    };
    snap.relay_listens.push_back({.relay = s.relay,
                                  .port = s.port,
                                  .to = s.to,
                                  .up = s.up,
                                  .up_for = age(s.up_since),
                                  .connections = s.connections,
                                  .last_error = s.last_error,
                                  .error_age = age(s.last_error_at)});
  }
  // One line per site: sites sharing a path share its pool, and one that
  // never carried traffic has none (idle).
  std::unordered_map<std::string, const pool::Stats*> by_endpoint;
  for (const auto& g : snap.gateways) by_endpoint[g.endpoint] = &g;
  const auto counts = metrics_->sites();
  const auto now = pool::Clock::now();
  for (const auto& site : table->sites()) {
    std::string name = site.name.empty() ? site.origin : site.name;  // as Connection::site_text
    // The path new connections take now, and the health of its pool.
    const auto paths = paths_of(cfg_, site);
    const auto route = gateways_->route(name, paths);
    const std::string path = paths[route.index].to_string();
    const auto pool = by_endpoint.find(path);
    const auto count = counts.find(name);
    SiteHealth health = site_health(std::move(name), path, count == counts.end() ? 0 : count->second.active,
                                     pool == by_endpoint.end() ? nullptr : pool->second, now);
    health.path_number = route.index + 1;
    health.path_count = paths.size();
    health.path_why = route.why;
    snap.site_health.push_back(std::move(health));
  }
  return snap;
}

Server::~Server() = default;

void Server::bind(const std::string& listen) {
  tcp::endpoint endpoint = listen_endpoint("listen", listen);
  auto listener = std::make_unique<Listener>(io_);
  tcp::acceptor* acceptor = &listener->acceptor;
  boost::system::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  // IPv4 and IPv6 listeners on one port coexist only with v6-only set.
  if (!ec && endpoint.address().is_v6()) acceptor->set_option(boost::asio::ip::v6_only(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(tcp::socket::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listen + ": " + ec.message());
  acceptors_.push_back(std::move(listener));
}

void Server::accept_next(Listener& listener) {
  listener.acceptor.async_accept(listener.peer, [this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE/ENFILE and friends: the loop must not die nor spin.
      static log::Limited accept_warning(std::chrono::seconds(5));
      accept_warning.warn([&](log::Line& line) { line << "accept failed: " << ec.message() << "; pausing accepts"; });
      auto timer = std::make_shared<boost::asio::steady_timer>(io_, accept_backoff);
      timer->async_wait([this, &listener, timer](const boost::system::error_code&) { accept_next(listener); });
      return;
    }
    const tcp::endpoint peer = listener.peer;  // the next accept reuses the slot
    accept_next(listener);
    on_accepted(std::move(socket), peer);
  });
}

void Server::on_accepted(tcp::socket socket, const tcp::endpoint& peer) {
  int fd = socket.native_handle();
  auto connection = std::make_unique<Connection>(std::move(socket), peer, tracker_, metrics_);
  // A LAN client that vanished (asleep, unplugged) must not hold its channel forever.
  if (cfg_.client_keepalive.count() > 0) net::set_dead_peer_detection(fd, cfg_.client_keepalive);
  // Read first, so that every log line names the original destination,
  // those of refused connections included.
  auto destination = net::original_destination(fd);
  hostsdb::RouteTablePtr table = table_.load();
  if (destination) connection->set_target(unrouted(*destination), table);
  // Rejections are rate-limited like no-site: a host looping on the port
  // must not fill the log. The line that speaks says how many were silenced
  // since the last one (those are still logged at debug level).
  if (tracker_->live() > cfg_.max_connections) {
    static log::Limited full_warning(std::chrono::seconds(5));
    const bool loud = full_warning.warn([this](log::Line& line) {
      line << "max_connections (" << cfg_.max_connections << ") reached; resetting new connections";
    });
    connection->finish({"max-connections", true, !loud});
    return;
  }
  if (!destination) {
    static log::Limited self_warning(std::chrono::seconds(1));
    const bool loud = self_warning.allow("more connections to the listener itself (not redirected) were reset");
    connection->finish({"not-redirected (connected to the listener itself)", true, !loud});
    return;
  }
  auto target = resolve_target(cfg_, *table, destination->ip, destination->port);
  if (!target) {
    static log::Limited no_site_warning(std::chrono::seconds(1));
    const bool loud = no_site_warning.allow("more connections to addresses without a site were reset");
    connection->finish({"no-site", true, !loud});
    return;
  }
  net::set_no_delay(fd);
  // The first of the site's paths neither failing nor unhealthy; a path that
  // fails while connections wait hands them to the next one (pool::Registry).
  connection->set_target(std::move(*target), std::move(table));
  auto deadline = std::chrono::steady_clock::now() + cfg_.ssh.connect_timeout;
  gateways_->submit(std::make_shared<ssh::Tunnel>(std::move(connection), deadline));
}

void Server::reload_hosts(const char* why) {
  hostsdb::LoadResult result = hostsdb::load_sources(cfg_.hosts, cfg_.site_prefix);
  for (const auto& diag : result.diags) DVPN_LOG(warning) << diag.to_string();
  metrics_->hosts_reloaded(!result.has_errors());
  if (result.has_errors()) {
    DVPN_LOG(warning) << "hosts reload (" << why << ") failed; keeping the previous table of "
                      << table_.load()->size() << " sites";
    return;
  }
  auto table = std::make_shared<const hostsdb::RouteTable>(std::move(result.table));
  DVPN_LOG(info) << "hosts reloaded (" << why << "): " << table->size() << " sites";
  table_.store(std::move(table));
}

// Posted onward: each pool and relay listener acts on its own strand, each
// session on its own.
void Server::network_changed(const net::LinkChange& change) {
  if (stopping_) return;
  gateways_->for_each([&change](pool::EndpointPool& g) { g.network_changed(change.gained); });
  for (auto& relay : relay_listeners_) relay->network_changed(change.gained);
}

void Server::wait_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      notify_service_manager("RELOADING=1");
      reload_hosts("SIGHUP");
      notify_service_manager("READY=1");
      wait_signals();
      return;
    }
    begin_shutdown();
  });
}

void Server::begin_shutdown() {
  if (stopping_.exchange(true)) return;
  notify_service_manager("STOPPING=1");
  for (auto& listener : acceptors_) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
  }
  DVPN_LOG(info) << "stopping: " << tracker_->live() << " connections draining for up to "
                 << cfg_.shutdown_grace.count() / 1000.0 << "s";
  drain_deadline_ = std::chrono::steady_clock::now() + cfg_.shutdown_grace;
  check_drained();
}

void Server::check_drained() {
  if (tracker_->live() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (tracker_->live() > 0) {
      DVPN_LOG(warning) << "grace period over: resetting " << tracker_->live() << " connections";
      // Reset rather than close: a cut-off transfer must not look complete.
      tracker_->reset_all();
      gateways_->for_each([](pool::EndpointPool& g) { g.shutdown("daemon stopping"); });
    }
    for (auto& relay : relay_listeners_) relay->stop();
    io_.stop();
    return;
  }
  drain_timer_.expires_after(drain_poll);
  drain_timer_.async_wait([this](const boost::system::error_code&) { check_drained(); });
}

int Server::run() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  wait_signals();
  watcher_ = std::make_unique<HostsWatcher>(io_, cfg_.hosts,
                                            [this] { reload_hosts("file change"); });
  link_watcher_ = std::make_unique<net::LinkWatcher>(io_, [this](const net::LinkChange& change) { network_changed(change); });
  for (auto& listener : acceptors_) accept_next(*listener);
  for (auto& relay : relay_listeners_) relay->start();
  DVPN_LOG(info) << "dvpnd " << DVPN_VERSION << " listening on " << cfg_.listen.size() << " addresses, "
                 << table_.load()->size() << " sites";
  notify_service_manager("READY=1");

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& worker : workers) worker.join();
  return 0;
}

}  // namespace dvpn
