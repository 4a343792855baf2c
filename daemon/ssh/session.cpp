#include "session.hpp"

#include <netdb.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "errors.hpp"
#include "host_keys.hpp"
#include "log.hpp"
#include "net/name_lookup.hpp"
#include "net/socket_options.hpp"
#include "tunnel.hpp"
#include "yaml_reader.hpp"  // format_duration

namespace dvpn::ssh {
namespace {

std::atomic<std::uint64_t> next_session_id{1};
constexpr std::size_t scratch_size = 64 * 1024;
constexpr int unsent_limit = 128 * 1024;
// Bytes the far end may send ahead on all of a session's channels together:
// a reply to a channel open queues behind them, so the window a new channel
// gets shrinks as the session fills (never below min_window, never above the
// configured window_size).
constexpr std::uint32_t session_window_budget = 4u << 20;
constexpr std::uint32_t min_window = 256u << 10;

// Cheapest strong choices libssh2 1.10 can negotiate (doc/ssh-notes.md §3):
// curve25519 costs a fraction of OpenSSH's default sntrup761 kex, and
// aes128-ctr uses AES-NI.
constexpr const char* kex_prefs = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
                                  "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group14-sha256";
constexpr const char* hostkey_prefs = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521";
constexpr const char* cipher_prefs = "aes128-ctr,aes192-ctr,aes256-ctr";
constexpr const char* mac_prefs = "hmac-sha2-256,hmac-sha2-512";

}  // namespace

Session::Session(boost::asio::io_context& io, GatewayKey key, std::shared_ptr<const SessionSettings> settings,
                 std::weak_ptr<SessionObserver> observer)
    : strand_(boost::asio::make_strand(io)),
      socket_(strand_),
      timer_(strand_),
      connect_timer_(strand_),
      open_timer_(strand_),
      key_(std::move(key)),
      settings_(std::move(settings)),
      observer_(std::move(observer)),
      id_(next_session_id.fetch_add(1)),
      in_(in_capacity),
      scratch_(scratch_size) {}

Session::~Session() {
  if (ssh_) libssh2_session_free(ssh_);
}

ssize_t Session::send_callback(libssh2_socket_t, const void* buffer, size_t length, int, void** abstract) {
  auto* self = static_cast<Session*>(*abstract);
  const char* bytes = static_cast<const char*>(buffer);
  self->out_pending_.insert(self->out_pending_.end(), bytes, bytes + length);
  return static_cast<ssize_t>(length);
}

ssize_t Session::recv_callback(libssh2_socket_t, void* buffer, size_t length, int, void** abstract) {
  auto* self = static_cast<Session*>(*abstract);
  std::size_t available = self->in_end_ - self->in_begin_;
  if (available == 0) return -EAGAIN;
  std::size_t n = std::min(available, length);
  std::memcpy(buffer, self->in_.data() + self->in_begin_, n);
  self->in_begin_ += n;
  self->in_consumed_ += n;
  return static_cast<ssize_t>(n);
}

std::uint32_t Session::window_for_new_channel() const noexcept {
  auto channels = static_cast<std::uint32_t>(tunnels_.size() + 1);
  return std::clamp(session_window_budget / channels, std::min(min_window, settings_->window_size),
                    settings_->window_size);
}

void Session::start() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->state_ = State::resolving;
    self->timer_.expires_after(self->settings_->connect_timeout);
    self->timer_.async_wait([self](const boost::system::error_code& ec) { self->on_setup_deadline(ec); });
    boost::system::error_code not_literal;
    const auto address = boost::asio::ip::make_address(self->key_.host, not_literal);
    if (!not_literal) {
      self->on_resolved(0, {tcp::endpoint(address, self->key_.port)});
      return;
    }
    self->start_lookup();
  });
}

void Session::start_lookup() {
  DVPN_LOG(debug) << "session " << id_ << " to " << key_.to_string() << ": resolving " << key_.host;
  // The lookup may outlive the session (getaddrinfo cannot be cancelled): its
  // result then finds no one. The setup deadline bounds the wait.
  auto done = [weak = weak_from_this()](int gai_error, std::vector<tcp::endpoint> endpoints) {
    if (auto self = weak.lock()) self->on_resolved(gai_error, std::move(endpoints));
  };
  if (auto why_not = net::lookup_async(key_.host, key_.port, strand_, std::move(done)); !why_not.empty())
    fail("cannot resolve " + key_.host + ": " + why_not);
}

void Session::on_setup_deadline(const boost::system::error_code& ec) {
  if (ec || state_ == State::ready || state_ == State::dead || state_ == State::closing) return;
  auto seconds = std::chrono::duration<double>(settings_->connect_timeout).count();
  const std::string within = "within connect_timeout (" + std::to_string(seconds).substr(0, 4) + "s)";
  if (state_ == State::resolving) {
    fail("cannot resolve " + key_.host + ": no answer " + within);
    return;
  }
  fail("no SSH session to " + key_.to_string() + " " + within +
       (connect_errors_.empty() ? "" : "; " + connect_errors_));
}

void Session::on_resolved(int gai_error, std::vector<tcp::endpoint> endpoints) {
  if (state_ != State::resolving) return;
  if (gai_error != 0 || endpoints.empty()) {
    fail("cannot resolve " + key_.host + ": " + (gai_error ? ::gai_strerror(gai_error) : "no IPv4 or IPv6 address"));
    return;
  }
  state_ = State::connecting;
  endpoints_ = std::move(endpoints);
  next_endpoint_ = 0;
  connect_next();
}

void Session::connect_next() {
  if (next_endpoint_ >= endpoints_.size()) {
    fail("cannot connect to " + key_.to_string() + ": " + connect_errors_);
    return;
  }
  const tcp::endpoint endpoint = endpoints_[next_endpoint_++];
  const unsigned attempt = ++connect_attempt_;
  attempt_timed_out_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
  socket_.open(endpoint.protocol(), ec);
  if (ec) {
    on_connected(ec, attempt);
    return;
  }
  // Addresses left to try, this one included: each gets an equal share of
  // the setup time left, the last one all of it (the setup deadline bounds it).
  const std::size_t left = endpoints_.size() - next_endpoint_ + 1;
  auto self = shared_from_this();
  if (left > 1) {
    const auto share = std::chrono::duration_cast<std::chrono::milliseconds>(
        (timer_.expiry() - boost::asio::steady_timer::clock_type::now()) / left);
    DVPN_LOG(debug) << "session " << id_ << " to " << key_.to_string() << ": connecting to " << endpoint << " (address "
                    << next_endpoint_ << " of " << endpoints_.size() << ", for up to " << share.count() << "ms)";
    connect_timer_.expires_after(share);
    connect_timer_.async_wait([self, attempt](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::connecting || attempt != self->connect_attempt_) return;
      self->attempt_timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // the connect completes with operation_aborted
    });
  } else if (endpoints_.size() > 1) {
    DVPN_LOG(debug) << "session " << id_ << " to " << key_.to_string() << ": connecting to " << endpoint << " (address "
                    << next_endpoint_ << " of " << endpoints_.size() << ")";
  }
  socket_.async_connect(endpoint, [self, attempt](const boost::system::error_code& ec) { self->on_connected(ec, attempt); });
}

void Session::on_connected(const boost::system::error_code& ec, unsigned attempt) {
  if (state_ != State::connecting || attempt != connect_attempt_) return;
  connect_timer_.cancel();
  if (ec || attempt_timed_out_) {
    const std::string why = attempt_timed_out_ ? "no answer within its share of connect_timeout" : ec.message();
    if (endpoints_.size() == 1) {
      connect_errors_ = why;
    } else {
      std::ostringstream text;
      text << endpoints_[next_endpoint_ - 1] << ": " << why;
      connect_errors_ += (connect_errors_.empty() ? "" : "; ") + text.str();
      if (next_endpoint_ < endpoints_.size()) {
        DVPN_LOG(info) << "session " << id_ << " to " << key_.to_string() << ": " << text.str()
                       << "; trying the next address";
      }
    }
    connect_next();
    return;
  }
  int fd = socket_.native_handle();
  net::set_no_delay(fd);
  net::set_unsent_limit(fd, unsent_limit);
  if (settings_->keepalive.count() > 0) net::set_dead_peer_detection(fd, settings_->keepalive);
  ssh_ = libssh2_session_init_ex(nullptr, nullptr, nullptr, this);
  if (!ssh_) {
    fail("libssh2 could not create a session");
    return;
  }
  libssh2_session_callback_set(ssh_, LIBSSH2_CALLBACK_SEND, reinterpret_cast<void*>(&Session::send_callback));
  libssh2_session_callback_set(ssh_, LIBSSH2_CALLBACK_RECV, reinterpret_cast<void*>(&Session::recv_callback));
  libssh2_session_set_blocking(ssh_, 0);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_KEX, kex_prefs);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_HOSTKEY, hostkey_prefs);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_CRYPT_CS, cipher_prefs);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_CRYPT_SC, cipher_prefs);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_MAC_CS, mac_prefs);
  libssh2_session_method_pref(ssh_, LIBSSH2_METHOD_MAC_SC, mac_prefs);
  state_ = State::handshake;
  pump();
}

void Session::step_setup() {
  if (state_ == State::handshake) {
    int rc = libssh2_session_handshake(ssh_, socket_.native_handle());
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
    if (rc != 0) {
      fail("SSH handshake with " + key_.to_string() + " failed: " + last_error(ssh_));
      return;
    }
    HostKeyVerdict verdict =
        verify_host_key(ssh_, key_.host, key_.port, settings_->known_hosts, settings_->host_key_policy);
    if (!verdict.accepted) {
      fail(verdict.detail);
      return;
    }
    DVPN_LOG(debug) << "session " << id_ << " to " << key_.to_string() << ": " << verdict.detail;
    state_ = State::auth;
  }
  if (state_ == State::auth) {
    int rc = libssh2_userauth_publickey_fromfile_ex(ssh_, key_.user.c_str(), static_cast<unsigned>(key_.user.size()),
                                                    nullptr, settings_->identity.c_str(), nullptr);
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
    if (rc != 0) {
      fail("authentication as " + key_.user + " with " + settings_->identity + " refused by " + key_.to_string() + ": " +
           last_error(ssh_));
      return;
    }
    state_ = State::ready;
    timer_.cancel();
    if (settings_->keepalive.count() > 0) {
      // want_reply=0: libssh2 1.10 never frees the replies (doc/ssh-notes.md §4).
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(settings_->keepalive).count();
      libssh2_keepalive_config(ssh_, 0, static_cast<unsigned>(std::max<long>(2, seconds)));
    }
    arm_tick();
    DVPN_LOG(info) << "session " << id_ << " to " << key_.to_string() << " ready";
    if (auto observer = observer_.lock()) observer->on_session_ready(id_);
  }
}

void Session::adopt(std::shared_ptr<Tunnel> tunnel) {
  boost::asio::post(strand_, [self = shared_from_this(), tunnel = std::move(tunnel)]() mutable {
    if (self->state_ != State::ready) {
      tunnel->session_lost("session to " + self->key_.to_string() + " closed before the channel opened");
      return;
    }
    if (self->open_stalled()) {
      // The pool had not heard yet: straight back to it.
      if (auto observer = self->observer_.lock()) observer->on_opens_stalled(self->id_, {std::move(tunnel)});
      return;
    }
    self->opening_.push_back(std::move(tunnel));
    if (self->opening_.size() == 1) self->arm_open_deadline();
    self->pump();
  });
}

void Session::arm_open_deadline() {
  auto next = std::find_if(opening_.begin(), opening_.end(), [](const auto& t) { return !t->abandoned(); });
  if (next == opening_.end()) return;
  open_timer_.expires_at((*next)->deadline());
  open_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->on_open_deadline();
  });
}

bool Session::open_stalled() const {
  return !opening_.empty() && opening_.front()->abandoned();
}

void Session::on_open_deadline() {
  if (state_ != State::ready) return;
  const auto now = Tunnel::Clock::now();
  const std::string reason = "timeout: no channel to " + key_.to_string() + " within connect_timeout";
  for (auto it = opening_.begin(); it != opening_.end();) {
    auto& tunnel = *it;
    if (tunnel->abandoned() || tunnel->deadline() > now) {
      ++it;
    } else if (it == opening_.begin()) {
      // libssh2 is mid-open for it; the open must run to completion.
      tunnel->abandon(reason);
      ++it;
    } else {
      tunnel->reject(reason);
      if (auto observer = observer_.lock()) observer->on_open_done(id_);
      channel_released(tunnel->mode(), 0, 0);
      it = opening_.erase(it);
    }
  }
  if (open_stalled() && opening_.size() > 1) {
    // Those behind the stuck open have time left; another session may serve them.
    std::vector<std::shared_ptr<Tunnel>> queued(std::next(opening_.begin()), opening_.end());
    opening_.erase(std::next(opening_.begin()), opening_.end());
    if (auto observer = observer_.lock()) observer->on_opens_stalled(id_, std::move(queued));
  }
  arm_open_deadline();
}

bool Session::step_opening() {
  while (!opening_.empty() && state_ == State::ready) {
    std::shared_ptr<Tunnel> tunnel = opening_.front();
    Tunnel::OpenResult result = tunnel->try_open(*this);
    if (result == Tunnel::OpenResult::pending) return false;
    opening_.pop_front();
    arm_open_deadline();
    if (auto observer = observer_.lock()) observer->on_open_done(id_);
    switch (result) {
      case Tunnel::OpenResult::opened:
        DVPN_LOG(debug) << "session " << id_ << ": channel for " << tunnel->connection().client_text() << " open after "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(Tunnel::Clock::now() -
                                                                                 tunnel->connection().started())
                               .count()
                        << "ms, " << opening_.size() << " more queued";
        tunnels_.push_back(std::move(tunnel));
        break;
      case Tunnel::OpenResult::refused:
        if (tunnel->abandoned()) {
          channel_released(tunnel->mode(), 0, 0);
        } else if (tunnel->mode() == hostsdb::Mode::netcat) {
          // A session channel is refused only for lack of slots, never
          // because of the destination (that is netcat's exit status).
          DVPN_LOG(debug) << "session " << id_ << ": far end refused a session channel: " << tunnel->open_error();
          if (auto observer = observer_.lock()) observer->on_session_full(id_, std::move(tunnel));
        } else {
          tunnel->reject("far-end-refused: " + tunnel->open_error());
          channel_released(tunnel->mode(), 0, 0);
        }
        break;
      case Tunnel::OpenResult::session_broken:
        fail("opening a channel: " + tunnel->open_error());
        tunnel->session_lost("opening a channel");
        return false;
      case Tunnel::OpenResult::pending:
        break;
    }
  }
  return false;
}

void Session::pump() {
  pump_scheduled_ = false;
  if (state_ == State::handshake || state_ == State::auth) step_setup();
  if (state_ == State::ready) {
    bool more = false;
    for (int round = 0; round < 4 && state_ == State::ready; ++round) {
      rescan_ = false;
      step_opening();
      // Decode what arrived first, so wants_step() sees every channel's data.
      drain_transport();
      const std::uint64_t consumed = in_consumed_;
      for (std::size_t i = 0; i < tunnels_.size() && state_ == State::ready; ++i) {
        if (!tunnels_[i]->wants_step()) continue;
        std::shared_ptr<Tunnel> tunnel = tunnels_[i];  // a step may end the session and clear tunnels_
        more |= tunnel->step(*this);
        // Opens wait for one reply each and go one at a time: give them a go
        // between busy channels, or a busy session starves its newcomers.
        if (!opening_.empty()) step_opening();
      }
      drain_transport();
      if (in_consumed_ == consumed && !rescan_) break;  // nothing arrived that a tunnel has not seen
      more = true;
    }
    std::erase_if(tunnels_, [](const auto& t) { return t->released(); });
    if (more && state_ == State::ready) schedule_pump();
  }
  request_write();
  start_read();
}

void Session::pump_tunnel(const std::shared_ptr<Tunnel>& tunnel) {
  if (state_ != State::ready) return;
  const std::uint64_t consumed = in_consumed_;
  rescan_ = false;
  bool more = tunnel->step(*this);
  if (state_ != State::ready) return;
  if (tunnel->released()) std::erase(tunnels_, tunnel);
  if (in_consumed_ != consumed || more || rescan_) {
    // It took SSH input that other channels may be waiting for, or it has more to do.
    schedule_pump();
  }
  request_write();
  start_read();
}

void Session::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  boost::asio::post(strand_, [self = shared_from_this()] { self->pump(); });
}

void Session::drain_transport() {
  if (in_begin_ == in_end_ && !rescan_) return;
  for (std::size_t i = 0; i < tunnels_.size() && state_ == State::ready; ++i) {
    std::shared_ptr<Tunnel> tunnel = tunnels_[i];
    if (tunnel->pull_input(*this)) return;
  }
}

void Session::start_read() {
  if (reading_ || state_ == State::dead || state_ == State::closing || !socket_.is_open()) return;
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_end_ == in_.size() && in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ == in_.size()) return;  // libssh2 must take some first
  reading_ = true;
  socket_.async_read_some(boost::asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->reading_ = false;
                            if (self->state_ == State::dead || self->state_ == State::closing) return;
                            if (ec) {
                              self->fail("connection to " + self->key_.to_string() + " lost: " + ec.message());
                              return;
                            }
                            self->in_end_ += n;
                            net::set_quick_ack(self->socket_.native_handle());
                            self->pump();
                          });
}

void Session::request_write() {
  if (write_requested_ || writing_ || out_pending_.empty()) return;
  write_requested_ = true;
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->write_requested_ = false;
    self->start_write();
  });
}

void Session::start_write() {
  if (writing_ || out_pending_.empty() || state_ == State::dead) return;
  const bool was_congested = congested();
  out_writing_.swap(out_pending_);
  out_pending_.clear();
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(out_writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                             self->writing_ = false;
                             self->out_writing_.clear();
                             if (self->state_ == State::dead) return;
                             if (ec) {
                               self->fail("sending to " + self->key_.to_string() + " failed: " + ec.message());
                               return;
                             }
                             if (self->state_ == State::closing && self->out_pending_.empty()) {
                               self->teardown();
                               return;
                             }
                             self->start_write();
                           });
  if (was_congested) schedule_pump();  // producers stopped at the mark may go on
}

void Session::arm_tick() {
  const auto interval = tick_interval(*settings_);
  if (interval.count() <= 0) return;
  timer_.expires_after(interval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ != State::ready) return;
    if (self->settings_->keepalive.count() > 0) {
      int next = 0;
      libssh2_keepalive_send(self->ssh_, &next);  // sends only once its own interval is up
      self->start_write();
    }
    self->end_idle_tunnels();
    self->arm_tick();
  });
}

void Session::end_idle_tunnels() {
  const auto limit = settings_->connection_idle_timeout;
  if (limit.count() <= 0) return;
  const auto now = Tunnel::Clock::now();
  const auto tunnels = tunnels_;  // an abort may end the session and clear tunnels_
  for (const auto& tunnel : tunnels) {
    if (state_ != State::ready) return;
    if (!tunnel->released() && now - tunnel->last_active() >= limit)
      tunnel->abort(*this, "idle-timeout: no byte either way for " + config::detail::format_duration(limit) +
                               " (limits.idle_timeout)");
  }
  std::erase_if(tunnels_, [](const auto& t) { return t->released(); });
}

void Session::close_idle() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ != State::ready || !self->tunnels_.empty() || !self->opening_.empty()) return;
    self->state_ = State::closing;
    DVPN_LOG(info) << "session " << self->id_ << " to " << self->key_.to_string() << " closed (idle)";
    libssh2_session_disconnect(self->ssh_, "idle");
    if (!self->writing_) self->start_write();
    if (!self->writing_) self->teardown();
  });
}

void Session::abort(const std::string& why) {
  boost::asio::post(strand_, [self = shared_from_this(), why] { self->fail(why); });
}

void Session::fail(const std::string& why) {
  if (state_ == State::dead) return;
  const bool was_ready = state_ == State::ready;
  state_ = State::dead;
  auto tunnels = std::move(tunnels_);
  auto opening = std::move(opening_);
  tunnels_.clear();
  opening_.clear();
  for (auto& tunnel : tunnels) tunnel->session_lost(why);
  for (auto& tunnel : opening) tunnel->session_lost(why);
  teardown();
  if (auto observer = observer_.lock()) observer->on_session_ended(id_, was_ready, why);
}

void Session::teardown() {
  if (state_ != State::dead) state_ = State::dead;
  timer_.cancel();
  open_timer_.cancel();
  connect_timer_.cancel();
  // Free before closing: libssh2 restores the socket's blocking mode on free.
  if (ssh_) {
    libssh2_session_free(ssh_);
    ssh_ = nullptr;
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void Session::channel_released(hostsdb::Mode mode, std::uint64_t up, std::uint64_t down) {
  if (state_ != State::ready) return;
  if (auto observer = observer_.lock()) observer->on_channel_released(id_, mode, up, down);
}

}  // namespace dvpn::ssh
