#include "session.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>

#include "errors.hpp"
#include "host_keys.hpp"
#include "log.hpp"
#include "net/local_address.hpp"
#include "tcp_dialer.hpp"
#include "tunnel.hpp"
#include "yaml_reader.hpp"  // format_duration

namespace dvpn::ssh {
namespace {

std::atomic<std::uint64_t> next_session_id{1};
constexpr std::size_t scratch_size = 64 * 1024;

// The relay's scratch buffer, one per thread: channels use it only within
// one step (what the other side cannot take is copied out), and handlers on
// a thread run one at a time.
std::vector<char>& thread_scratch() {
  thread_local std::vector<char> buffer(scratch_size);
  return buffer;
}

// Cheapest strong choices libssh2 1.10 can negotiate (doc/ssh-notes.md §3):
// curve25519 costs a fraction of OpenSSH's default sntrup761 kex, and
// aes128-ctr uses AES-NI.
constexpr const char* kex_prefs = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
                                  "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group14-sha256";
constexpr const char* hostkey_prefs = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521";
constexpr const char* cipher_prefs = "aes128-ctr,aes192-ctr,aes256-ctr";
constexpr const char* mac_prefs = "hmac-sha2-256,hmac-sha2-512";

}  // namespace

Session::Session(boost::asio::io_context& io, SshEndpoint key, std::shared_ptr<const SessionSettings> settings,
                 SessionEvents events, Dial dial)
    : strand_(boost::asio::make_strand(io)),
      timer_(strand_),
      open_timer_(strand_),
      key_(std::move(key)),
      settings_(std::move(settings)),
      events_(std::move(events)),
      id_(next_session_id.fetch_add(1)),
      dial_(std::move(dial)),
      wire_(strand_, key_.to_string(),
            Wire::Events{
                .input =
                    [this] {
                      pump();
                      step_forward();
                    },
                .room = [this] { schedule_pump(); },
                .flushed_while_stopping = [this] { teardown(); },
                .error = [this](const std::string& why) { fail(why); },
            }) {}

Session::~Session() {
  if (ssh_) libssh2_session_free(ssh_);
}

std::vector<char>& Session::scratch() noexcept { return thread_scratch(); }

std::string Session::peer() const { return "session " + std::to_string(id_) + " to " + key_.to_string(); }

void Session::emit(SessionEvent event) {
  event.session = id_;
  if (events_) events_(std::move(event));
}

void Session::start() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->state_ = State::connecting;
    self->timer_.expires_after(self->settings_->connect_timeout);
    self->timer_.async_wait([self](const boost::system::error_code& ec) { self->on_setup_deadline(ec); });
    if (self->dial_) {
      std::string error;
      auto transport = self->dial_(self->strand_, error);
      if (!transport) {
        self->fail(error);
        return;
      }
      self->begin_ssh(std::move(transport));
      return;
    }
    auto done = [weak = self->weak_from_this()](std::optional<boost::asio::ip::tcp::socket> socket,
                                                const std::string& error) {
      if (auto self = weak.lock()) self->on_dialed(std::move(socket), error);
    };
    self->dialer_ = std::make_shared<TcpDialer>(self->strand_, self->key_, self->peer(), self->timer_.expiry(),
                                                std::move(done));
    self->dialer_->start();
  });
}

void Session::on_setup_deadline(const boost::system::error_code& ec) {
  if (ec || state_ == State::ready || state_ == State::dead || state_ == State::closing) return;
  auto seconds = std::chrono::duration<double>(settings_->connect_timeout).count();
  const std::string within = "within connect_timeout (" + std::to_string(seconds).substr(0, 4) + "s)";
  if (dialer_ && dialer_->resolving()) {
    fail("cannot resolve " + key_.host + ": no answer " + within);
    return;
  }
  const std::string errors = dialer_ ? dialer_->errors() : "";
  fail("no SSH session to " + key_.to_string() + " " + within + (errors.empty() ? "" : "; " + errors) +
       wire_.why_lost());
}

void Session::on_dialed(std::optional<boost::asio::ip::tcp::socket> socket, const std::string& error) {
  if (state_ != State::connecting) return;
  if (!socket) {
    fail(error);
    return;
  }
  begin_ssh(std::make_unique<TcpTransport>(std::move(*socket), settings_->keepalive));
}

void Session::begin_ssh(std::unique_ptr<Transport> transport) {
  wire_.attach(std::move(transport));
  // libssh2 hands its I/O callbacks this "abstract" pointer: the wire.
  ssh_ = libssh2_session_init_ex(nullptr, nullptr, nullptr, &wire_);
  if (!ssh_) {
    fail("libssh2 could not create a session");
    return;
  }
  wire_.install(ssh_);
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
    int rc = libssh2_session_handshake(ssh_, wire_.descriptor());
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
    DVPN_LOG(debug) << peer() << ": " << verdict.detail;
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
    state_ = State::prelude;
  }
  if (state_ == State::prelude && step_prelude_open()) became_ready();
}

void Session::became_ready() {
  state_ = State::ready;
  timer_.cancel();
  dialer_.reset();
  if (settings_->keepalive.count() > 0) {
    // want_reply=0: libssh2 1.10 never frees the replies (doc/ssh-notes.md §4).
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(settings_->keepalive).count();
    libssh2_keepalive_config(ssh_, 0, static_cast<unsigned>(std::max<long>(2, seconds)));
  }
  arm_tick();
  DVPN_LOG(info) << peer() << " ready";
  step_forward();
  auto ready = SessionEvent::of(SessionEvent::Kind::ready);
  ready.rtt = wire_.rtt();
  if (ready.rtt) path_rtt_ = *ready.rtt;
  emit(std::move(ready));
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
      self->wire_.flush(self);
    }
    self->end_idle_tunnels();
    self->step_forward();
    if (self->state_ != State::ready) return;
    if (self->rescan_) self->schedule_pump();  // a close above stopped at its reply
    self->wire_.trim();
    self->report_rtt();
    self->arm_tick();
  });
}

// The pool keeps the RTT its status view shows. It learns it from an event
// rather than by reading the socket itself: the socket belongs to this strand
// (it may close, and its descriptor be reused, at any time), and one post per
// tick is nothing.
void Session::report_rtt() {
  auto sample = SessionEvent::of(SessionEvent::Kind::rtt);
  sample.rtt = wire_.rtt();
  if (!sample.rtt) return;
  path_rtt_ = *sample.rtt;
  emit(std::move(sample));
}

void Session::end_idle_tunnels() {
  const auto limit = settings_->connection_idle_timeout;
  if (limit.count() <= 0) return;
  const auto now = Tunnel::Clock::now();
  const auto tunnels = tunnels_;  // an abort may end the session and clear tunnels_
  for (const auto& tunnel : tunnels) {
    if (state_ != State::ready) return;
    if (!tunnel->released() && now - tunnel->last_active() >= limit)
      tunnel->abort("idle-timeout: no byte either way for " + config::detail::format_duration(limit) +
                    " (limits.idle_timeout)");
  }
  std::erase_if(tunnels_, [](const auto& t) { return t->released(); });
}

void Session::close_idle() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ != State::ready || !self->tunnels_.empty() || !self->opens_.empty() || !self->execs_.empty())
      return;
    self->state_ = State::closing;
    DVPN_LOG(info) << self->peer() << " closed (idle)";
    libssh2_session_disconnect(self->ssh_, "idle");
    self->wire_.stop_after_flush(self);
  });
}

void Session::abort(const std::string& why) {
  boost::asio::post(strand_, [self = shared_from_this(), why] { self->fail(why); });
}

void Session::check_local_address() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    // From the handshake on, the wire has the socket; a dial in progress
    // has none yet and is bounded by connect_timeout.
    const State state = self->state_;
    if (state == State::idle || state == State::connecting || state == State::closing || state == State::dead) return;
    if (auto gone = net::vanished_local_address(self->wire_.descriptor()))
      self->fail("local address " + *gone + " went away");
  });
}

void Session::fail(const std::string& why) {
  if (state_ == State::dead) return;
  const bool was_ready = state_ == State::ready;
  state_ = State::dead;
  auto tunnels = std::move(tunnels_);
  tunnels_.clear();
  auto opens = opens_.take_all();
  auto execs = std::move(execs_);
  execs_.clear();
  for (auto& tunnel : tunnels) tunnel->session_lost(why);
  for (auto& tunnel : opens) tunnel->session_lost(why);
  for (auto& tunnel : execs) tunnel->session_lost(why);
  teardown();
  auto ended = SessionEvent::of(SessionEvent::Kind::ended);
  ended.was_ready = was_ready;
  ended.detail = why;
  emit(std::move(ended));
}

void Session::teardown() {
  state_ = State::dead;
  listener_ = nullptr;  // libssh2 frees it with the session
  timer_.cancel();
  open_timer_.cancel();
  if (dialer_) dialer_->cancel();
  prelude_ = nullptr;  // freed with the session, as are the spares
  spares_.clear();
  // Free before closing: libssh2 restores the descriptor's blocking mode on free.
  if (ssh_) {
    libssh2_session_free(ssh_);
    ssh_ = nullptr;
  }
  wire_.close();
}

void Session::channel_released(hostsdb::Mode mode, std::uint64_t up, std::uint64_t down) {
  if (state_ != State::ready) return;
  auto released = SessionEvent::of(SessionEvent::Kind::channel_released);
  released.mode = mode;
  released.bytes_up = up;
  released.bytes_down = down;
  emit(std::move(released));
}

}  // namespace dvpn::ssh

namespace dvpn::ssh {

void Session::request_forward(Forward forward) {
  boost::asio::post(strand_, [self = shared_from_this(), forward = std::move(forward)]() mutable {
    self->forward_ = std::move(forward);
    self->forward_wanted_ = !self->listener_;
    self->step_forward();
  });
}

void Session::step_forward() {
  if (state_ != State::ready || !forward_) return;
  if (!listener_) {
    if (!forward_wanted_) return;
    // queue_maxsize: forwarded channels libssh2 confirms and holds until we accept them.
    listener_ = libssh2_channel_forward_listen_ex(ssh_, forward_->host.c_str(), forward_->port, nullptr, 16);
    if (!listener_) {
      const int rc = libssh2_session_last_errno(ssh_);
      if (rc == LIBSSH2_ERROR_EAGAIN) {
        keep_io_going();
        return;
      }
      forward_wanted_ = false;
      const std::string why = last_error(ssh_);
      if (rc != LIBSSH2_ERROR_REQUEST_DENIED) {
        fail("requesting tcpip-forward " + forward_->host + ":" + std::to_string(forward_->port) + ": " + why);
        return;
      }
      note_partial_read();  // the call stopped at its reply
      schedule_pump();
      forward_->listening(key_.to_string() + " refused tcpip-forward " + forward_->host + ":" +
                          std::to_string(forward_->port) + ": " + why);
      return;
    }
    forward_wanted_ = false;
    DVPN_LOG(info) << peer() << ": listening on " << forward_->host << ":" << forward_->port << " (tcpip-forward)";
    forward_->listening("");
    if (state_ != State::ready) return;
  }
  // Each call reads all the input there is (1.10: it loops on the transport
  // until "would block"), so after it no packet waits undecoded.
  const std::uint64_t consumed = wire_.consumed();
  while (state_ == State::ready && listener_) {
    LIBSSH2_CHANNEL* channel = libssh2_channel_forward_accept(listener_);
    if (!channel) break;
    forward_->accepted(channel);
  }
  if (state_ != State::ready) return;
  if (wire_.consumed() != consumed) {
    rescan_ = true;  // the channels' data it decoded is theirs to read
    schedule_pump();
  }
  keep_io_going();
}

void Session::carry(std::shared_ptr<Tunnel> tunnel) {
  if (state_ != State::ready) {
    tunnel->session_lost("session to " + key_.to_string() + " ended before the connection was set up");
    return;
  }
  tunnels_.push_back(tunnel);
  wake(tunnel);
}

}  // namespace dvpn::ssh
