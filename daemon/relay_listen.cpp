#include "relay_listen.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "log.hpp"
#include "net/asio_endpoint.hpp"
#include "net/socket_options.hpp"
#include "ssh/tunnel.hpp"

namespace dvpn {
namespace {

constexpr std::chrono::milliseconds first_backoff{1000};
constexpr std::chrono::milliseconds max_backoff{30000};

}  // namespace

RelayListener::RelayListener(boost::asio::io_context& io, SshEndpoint relay, const config::RelayListen& entry,
                             std::shared_ptr<const ssh::SessionSettings> settings)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      retry_timer_(strand_),
      relay_(std::move(relay)),
      port_(entry.port),
      to_(entry.to),
      settings_(std::move(settings)) {
  status_.relay = relay_.to_string();
  status_.port = port_;
  status_.to = to_.to_string();
}

void RelayListener::start() {
  boost::asio::post(strand_, [self = shared_from_this()] { self->connect(); });
}

void RelayListener::stop() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->retry_timer_.cancel();
    if (self->session_) self->session_->abort("daemon stopping");
    self->session_.reset();
  });
}

void RelayListener::network_changed(bool gained) {
  boost::asio::post(strand_, [self = shared_from_this(), gained] {
    if (self->stopped_) return;
    if (self->session_) {
      self->session_->check_local_address();
      return;
    }
    if (!gained) return;
    // No session: failed() armed the retry timer; retry now instead.
    self->backoff_ = std::chrono::milliseconds{0};
    self->retry_timer_.cancel();
    self->connect();
  });
}

RelayListener::Status RelayListener::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::chrono::milliseconds RelayListener::next_backoff() {
  backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, max_backoff);
  return backoff_;
}

void RelayListener::connect() {
  if (stopped_) return;
  auto events = [weak = weak_from_this()](ssh::SessionEvent event) {
    if (auto self = weak.lock())
      boost::asio::post(self->strand_, [self, event = std::move(event)] { self->on_event(event); });
  };
  session_ = std::make_shared<ssh::Session>(io_, relay_, settings_, std::move(events));
  session_ready_ = false;
  DVPN_LOG(debug) << "relay_listen " << relay_.to_string() << " port " << port_ << ": opening session "
                  << session_->id();
  session_->start();
}

void RelayListener::on_event(const ssh::SessionEvent& event) {
  if (!session_ || event.session != session_->id()) return;
  using Kind = ssh::SessionEvent::Kind;
  if (event.kind == Kind::ready) {
    session_ready_ = true;
    request_listen();
  } else if (event.kind == Kind::ended) {
    session_.reset();
    session_ready_ = false;
    failed(event.detail);
  }
}

void RelayListener::request_listen() {
  if (!session_ || !session_ready_) return;
  std::weak_ptr<ssh::Session> weak_session = session_;
  session_->request_forward({
      .host = "127.0.0.1",  // literally: the relay's jail permits listening on exactly this
      .port = port_,
      .listening =
          [weak = weak_from_this()](const std::string& error) {
            if (auto self = weak.lock())
              boost::asio::post(self->strand_, [self, error] { self->on_listening(error); });
          },
      .accepted =
          [weak = weak_from_this(), weak_session](LIBSSH2_CHANNEL* channel) {
            auto self = weak.lock();
            auto session = weak_session.lock();
            if (self && session) self->accept(session, channel);
          },
  });
}

void RelayListener::on_listening(const std::string& error) {
  if (stopped_) return;
  if (!error.empty()) {
    failed(error);  // the session lives on: the timer retries the listen on it
    return;
  }
  backoff_ = std::chrono::milliseconds{0};
  // Info, not debug: the one sign outside --status that the site is reachable again.
  DVPN_LOG(info) << "relay_listen " << relay_.to_string() << " port " << port_ << ": listening";
  std::lock_guard lock(mu_);
  status_.up = true;
  status_.up_since = Clock::now();
}

void RelayListener::failed(const std::string& why) {
  {
    std::lock_guard lock(mu_);
    status_.up = false;
    status_.up_since.reset();
    status_.last_error = why;
    status_.last_error_at = Clock::now();
  }
  if (stopped_) return;
  const auto wait = next_backoff();
  DVPN_LOG(error) << "relay_listen " << relay_.to_string() << " port " << port_ << ": " << why << " (next attempt in "
                  << std::chrono::duration<double>(wait).count() << "s)";
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    if (self->session_) self->request_listen();
    else self->connect();
  });
}

// On the session's strand, with the channel just accepted: connect it to
// `to`; a failed connect still becomes a Tunnel, which closes the channel
// properly (the relay's client sees its connection end).
void RelayListener::accept(const std::shared_ptr<ssh::Session>& session, LIBSSH2_CHANNEL* channel) {
  {
    std::lock_guard lock(mu_);
    ++status_.connections;
  }
  auto socket = std::make_shared<boost::asio::ip::tcp::socket>(session->strand());
  const auto destination = net::to_asio(to_);
  socket->async_connect(destination, [self = shared_from_this(), session, channel, socket,
                                      destination](const boost::system::error_code& ec) {
    if (!socket->is_open()) socket->open(destination.protocol());
    else if (!ec) net::set_no_delay(socket->native_handle());
    auto connection = std::make_unique<Connection>(std::move(*socket), destination, self->tracker_, self->metrics_);
    Target target;
    target.ip = self->to_.ip;
    target.port = self->to_.port;
    target.mode = hostsdb::Mode::direct;
    connection->set_target(std::move(target), nullptr);
    auto tunnel = std::make_shared<ssh::Tunnel>(std::move(connection), ssh::Tunnel::Clock::now());
    tunnel->adopt_open(*session, channel);
    session->carry(tunnel);
    if (ec) tunnel->abort("relay-to-unreachable: connecting to " + self->to_.to_string() + ": " + ec.message());
  });
}

}  // namespace dvpn
