#include "connection.hpp"

#include <unistd.h>

#include <iomanip>
#include <sstream>

#include "ip_endpoint.hpp"
#include "log.hpp"
#include "net/socket_options.hpp"

namespace dvpn {

void ConnectionTracker::add(int fd) {
  live_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  fds_.insert(fd);
}

void ConnectionTracker::forget_fd(int fd) {
  std::lock_guard lock(mu_);
  fds_.erase(fd);
}

void ConnectionTracker::remove() { live_.fetch_sub(1, std::memory_order_relaxed); }

void ConnectionTracker::reset_all() {
  std::lock_guard lock(mu_);
  for (int fd : fds_) net::set_reset_on_close(fd);
}

Connection::Connection(tcp::socket client, const tcp::endpoint& peer, std::shared_ptr<ConnectionTracker> tracker,
                       std::shared_ptr<metrics::Registry> metrics)
    : client_(std::move(client)),
      tracker_(std::move(tracker)),
      metrics_(std::move(metrics)),
      fd_(client_.native_handle()),
      peer_(peer) {
  tracker_->add(fd_);
  auto addr = peer.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  // Asio's text, not hostsdb::Ip's: it keeps a link-local peer's zone.
  client_text_ = hostsdb::host_port_text(addr.to_string(), peer.port());
}

Connection::~Connection() {
  if (!finished_) finish({"dropped", true});
  tracker_->remove();
}

void Connection::set_target(Target target, hostsdb::RouteTablePtr table) {
  target_ = std::move(target);
  table_ = std::move(table);
  if (target_.site && !site_counted_) {
    site_counted_ = true;
    metrics_->connection_started(site_text());
  }
}

std::string Connection::destination_text() const {
  if (!target_.direct_host.empty()) return hostsdb::host_port_text(target_.direct_host, target_.port);
  return hostsdb::IpEndpoint{target_.ip, target_.port}.to_string();
}

std::string Connection::site_text() const {
  if (!target_.site) return "";
  return target_.site->name.empty() ? target_.site->origin : target_.site->name;
}

void Connection::channel_opened() {
  opened_.store(true, std::memory_order_release);
  metrics_->channel_opened(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
}

void Connection::finish(Ending ending) {
  if (finished_) return;
  finished_ = true;
  if (on_finish_) on_finish_(ending);
  boost::system::error_code ignored;
  tracker_->forget_fd(fd_);
  if (ending.reset) net::set_reset_on_close(fd_);
  client_.close(ignored);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_->connection_ended(site_text(), metrics::classify(ending.reason), bytes_up, bytes_down, elapsed);
  // A reset is what the client sees of a failure: worth a warning.
  const log::Level level = ending.quiet ? log::Level::debug : ending.reset ? log::Level::warning : log::Level::info;
  if (!log::enabled(level)) return;
  std::ostringstream line;
  line << "conn " << client_text_ << " -> " << destination_text();
  if (target_.site) {
    line << " site=" << site_text() << " mode=" << hostsdb::to_string(target_.mode);
  }
  line << " up=" << bytes_up << " down=" << bytes_down << " time=" << std::fixed << std::setprecision(3)
       << elapsed << "s end=" << ending.reason << (ending.reset ? " (reset)" : "");
  log::Line(level) << line.str();
}

}  // namespace dvpn
