#include "gateway.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "log.hpp"

namespace dvpn::gateway {
namespace {

constexpr Duration first_backoff{1000};
constexpr Duration max_backoff{30000};
constexpr Duration refused_pause{50};
// Retries are bounded by the connection's deadline; this only stops a far
// end that refuses every session channel from cycling a connection forever.
constexpr int max_retries = 100;
// Opens queued on one session before another session is worth a handshake.
constexpr unsigned opens_per_session_before_spreading = 2;

}  // namespace

Gateway::Gateway(boost::asio::io_context& io, GatewayKey key, std::shared_ptr<const ssh::SessionSettings> settings,
                 Limits limits)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      key_(std::move(key)),
      settings_(std::move(settings)),
      limits_(limits),
      wait_timer_(strand_),
      retry_timer_(strand_) {}

void Gateway::submit(std::shared_ptr<ssh::Tunnel> tunnel) {
  stat_connections_.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(strand_, [self = shared_from_this(), tunnel = std::move(tunnel)]() mutable {
    self->waiting_.push_back(std::move(tunnel));
    self->dispatch();
  });
}

Gateway::Slot* Gateway::find(std::uint64_t session_id) {
  for (auto& slot : slots_)
    if (slot.session->id() == session_id) return &slot;
  return nullptr;
}

Gateway::Slot* Gateway::pick(hostsdb::Mode mode) {
  Slot* best = nullptr;
  auto busier = [](const Slot& a, const Slot& b) {
    // Fewest opens in flight first (they are serialized per session), then fewest channels.
    if (a.opening != b.opening) return a.opening > b.opening;
    return a.exec + a.direct > b.exec + b.direct;
  };
  for (auto& slot : slots_) {
    if (!slot.ready || slot.stalled) continue;
    unsigned exec_limit = std::min(limits_.exec_channels_per_session, slot.exec_cap.value_or(~0u));
    bool has_room = mode == hostsdb::Mode::netcat ? slot.exec < exec_limit
                                                  : slot.direct < limits_.direct_channels_per_session;
    if (!has_room) continue;
    if (!best || busier(*best, slot)) best = &slot;
  }
  return best;
}

bool Gateway::want_another_session() const {
  // A stalled session keeps its channels but takes no opens, so it does not
  // count against the limit (up to twice the limit in all): a blackholed
  // destination must not block the other connections to that gateway.
  const auto stalled = static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.stalled; }));
  if (connecting_ || slots_.size() - stalled >= limits_.sessions || slots_.size() >= 2 * limits_.sessions ||
      Clock::now() < retry_after_)
    return false;
  if (!waiting_.empty()) return true;
  // Spread busy channels over a few sessions: each session runs on one
  // thread at a time, so one session per core lets busy streams use them all.
  bool all_busy = std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready && s.exec + s.direct > 0; });
  bool all_opening = std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) {
    return s.ready && s.opening >= opens_per_session_before_spreading;
  });
  return all_opening || (all_busy && slots_.size() < limits_.spread_sessions);
}

void Gateway::dispatch() {
  while (!waiting_.empty()) {
    std::shared_ptr<ssh::Tunnel> tunnel = waiting_.front();
    Slot* slot = pick(tunnel->mode());
    if (!slot) break;
    waiting_.pop_front();
    (tunnel->mode() == hostsdb::Mode::netcat ? slot->exec : slot->direct)++;
    slot->opening++;
    stat_channels_.fetch_add(1, std::memory_order_relaxed);
    if (slot->idle_timer) slot->idle_timer->cancel();
    tunnel->restart_deadline(limits_.connect_timeout);
    slot->session->adopt(std::move(tunnel));
  }
  if (want_another_session()) start_session();
  if (!waiting_.empty() && !connecting_ && Clock::now() < retry_after_ && pick(waiting_.front()->mode()) == nullptr &&
      slots_.empty()) {
    std::string why;
    {
      std::lock_guard lock(error_mu_);
      why = last_error_;
    }
    reject_waiting("gateway-unreachable: " + key_.to_string() + " (retrying after backoff; last error: " + why + ")");
  }
  stat_waiting_.store(static_cast<unsigned>(waiting_.size()), std::memory_order_relaxed);
  arm_wait_timer();
}

void Gateway::count_sessions() {
  stat_sessions_.store(static_cast<unsigned>(slots_.size()), std::memory_order_relaxed);
  const auto ready = std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready; });
  stat_ready_.store(static_cast<unsigned>(ready), std::memory_order_relaxed);
}

void Gateway::start_session() {
  connecting_ = true;
  if (failed_since_ready_) stat_reconnects_.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<ssh::Session>(io_, key_, settings_, weak_from_this());
  Slot slot;
  slot.session = session;
  slots_.push_back(std::move(slot));
  count_sessions();
  DVPN_LOG(debug) << "gateway " << key_.to_string() << ": opening session " << session->id();
  session->start();
}

void Gateway::reject_waiting(const std::string& reason) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& tunnel : waiting) tunnel->reject(reason);
  stat_waiting_.store(0, std::memory_order_relaxed);
}

void Gateway::arm_wait_timer() {
  if (waiting_.empty()) {
    wait_timer_.cancel();
    return;
  }
  // Requeued tunnels go to the front, so the front always has the oldest deadline.
  wait_timer_.expires_at(waiting_.front()->deadline());
  wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->on_wait_timer();
  });
}

void Gateway::on_wait_timer() {
  const auto now = Clock::now();
  bool gateway_down = slots_.empty() || std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready; });
  while (!waiting_.empty() && waiting_.front()->deadline() <= now) {
    auto tunnel = std::move(waiting_.front());
    waiting_.pop_front();
    tunnel->reject(gateway_down ? "gateway-unreachable: no SSH session to " + key_.to_string() + " within connect_timeout"
                                : "timeout: every channel to " + key_.to_string() + " busy for connect_timeout");
  }
  if (!gateway_down) {
    static log::RateLimit limit(5000);
    unsigned long suppressed = 0;
    if (limit.allow(suppressed)) {
      DVPN_LOG(warning) << "gateway " << key_.to_string() << ": all " << slots_.size()
                        << " sessions at their channel limit (ssh.max_sessions_per_gateway sessions, each at"
                        << " ssh.max_channels_per_session or the far end's MaxSessions); connections waited"
                        << " connect_timeout and were reset"
                        << (suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : "");
    }
  }
  stat_waiting_.store(static_cast<unsigned>(waiting_.size()), std::memory_order_relaxed);
  arm_wait_timer();
}

void Gateway::arm_idle_timer(Slot& slot) {
  if (!slot.idle_timer) slot.idle_timer = std::make_shared<boost::asio::steady_timer>(strand_);
  slot.idle_timer->expires_after(limits_.idle_timeout);
  std::uint64_t id = slot.session->id();
  slot.idle_timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec) return;
    Slot* slot = self->find(id);
    if (!slot || slot->exec + slot->direct > 0) return;
    auto session = slot->session;
    std::erase_if(self->slots_, [id](const Slot& s) { return s.session->id() == id; });
    self->count_sessions();
    session->close_idle();
  });
}

void Gateway::record_failure(const std::string& why) {
  stat_failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(error_mu_);
  last_error_ = why;
}

void Gateway::on_session_ready(std::uint64_t session_id) {
  boost::asio::post(strand_, [self = shared_from_this(), session_id] {
    Slot* slot = self->find(session_id);
    if (!slot) return;
    slot->ready = true;
    self->connecting_ = false;
    self->failed_since_ready_ = false;
    self->count_sessions();
    self->backoff_ = Duration{0};
    self->retry_after_ = {};
    self->dispatch();
    slot = self->find(session_id);  // dispatch may have grown slots_
    if (slot && slot->exec + slot->direct == 0) self->arm_idle_timer(*slot);
  });
}

void Gateway::on_session_ended(std::uint64_t session_id, bool was_ready, const std::string& why) {
  boost::asio::post(strand_, [self = shared_from_this(), session_id, was_ready, why] {
    Slot* slot = self->find(session_id);
    if (!slot) return;  // closed for idleness: already forgotten
    self->stat_channels_.fetch_sub(slot->exec + slot->direct, std::memory_order_relaxed);
    if (slot->idle_timer) slot->idle_timer->cancel();
    std::erase_if(self->slots_, [session_id](const Slot& s) { return s.session->id() == session_id; });
    self->count_sessions();
    self->record_failure(why);
    self->failed_since_ready_ = true;
    (was_ready ? self->stat_deaths_ : self->stat_handshake_failures_).fetch_add(1, std::memory_order_relaxed);
    if (was_ready) {
      DVPN_LOG(warning) << "gateway " << self->key_.to_string() << ": session " << session_id << " died: " << why;
    } else {
      self->connecting_ = false;
      self->backoff_ = std::min(max_backoff, self->backoff_.count() ? self->backoff_ * 2 : first_backoff);
      self->retry_after_ = Clock::now() + self->backoff_;
      DVPN_LOG(error) << "gateway " << self->key_.to_string() << ": " << why << " (next attempt in "
                      << self->backoff_.count() / 1000.0 << "s)";
      if (self->slots_.empty()) self->reject_waiting("gateway-unreachable: " + why);
    }
    self->dispatch();
  });
}

void Gateway::on_open_done(std::uint64_t session_id) {
  boost::asio::post(strand_, [self = shared_from_this(), session_id] {
    Slot* slot = self->find(session_id);
    if (slot && slot->opening > 0) slot->opening--;
    // While stalled the session got no opens, so this one is the stuck open.
    if (slot) slot->stalled = false;
    self->dispatch();
  });
}

void Gateway::retry_later() {
  retry_timer_.expires_after(refused_pause);
  retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    for (auto& slot : self->slots_)
      if (slot.exec_cap == 0u) slot.exec_cap.reset();
    self->dispatch();
  });
}

void Gateway::on_session_full(std::uint64_t session_id, std::shared_ptr<ssh::Tunnel> tunnel) {
  boost::asio::post(strand_, [self = shared_from_this(), session_id, tunnel = std::move(tunnel)]() mutable {
    if (Slot* slot = self->find(session_id)) {
      self->uncount_channel(*slot, hostsdb::Mode::netcat);
      // OpenSSH frees a slot only once the far-end command has exited and
      // been reaped, a little after the channel closed: until one of this
      // session's channels ends, take its current count as its limit.
      slot->exec_cap = slot->exec;
      if (slot->exec == 0) self->retry_later();
    }
    const std::string exhausted = "far-end-refused: " + self->key_.to_string() + " refused a session channel " +
                                  std::to_string(max_retries) + " times (" + tunnel->open_error() + ")";
    self->retry_first(std::move(tunnel), exhausted);
    self->dispatch();
  });
}

void Gateway::uncount_channel(Slot& slot, hostsdb::Mode mode) {
  (mode == hostsdb::Mode::netcat ? slot.exec : slot.direct)--;
  stat_channels_.fetch_sub(1, std::memory_order_relaxed);
}

void Gateway::retry_first(std::shared_ptr<ssh::Tunnel> tunnel, const std::string& exhausted) {
  if (++tunnel->retries > max_retries) {
    tunnel->reject(exhausted);
    return;
  }
  waiting_.push_front(std::move(tunnel));
}

void Gateway::on_opens_stalled(std::uint64_t session_id, std::vector<std::shared_ptr<ssh::Tunnel>> queued) {
  boost::asio::post(strand_, [self = shared_from_this(), session_id, queued = std::move(queued)]() mutable {
    if (Slot* slot = self->find(session_id)) {
      slot->stalled = true;
      for (const auto& tunnel : queued) {
        self->uncount_channel(*slot, tunnel->mode());
        if (slot->opening > 0) slot->opening--;
      }
      static log::RateLimit limit(5000);
      unsigned long suppressed = 0;
      if (limit.allow(suppressed)) {
        DVPN_LOG(warning) << "gateway " << self->key_.to_string() << ": session " << session_id
                          << " stuck on a channel open past connect_timeout; " << queued.size()
                          << " queued opens moved to other sessions"
                          << (suppressed ? " (" + std::to_string(suppressed) + " more like this)" : "");
      }
    }
    // Back in front of the queue, in their order, each with a fresh deadline on adoption.
    const std::string exhausted =
        "timeout: no channel to " + self->key_.to_string() + " after " + std::to_string(max_retries) + " tries";
    for (auto it = queued.rbegin(); it != queued.rend(); ++it) self->retry_first(std::move(*it), exhausted);
    self->dispatch();
  });
}

void Gateway::on_channel_released(std::uint64_t session_id, hostsdb::Mode mode, std::uint64_t up, std::uint64_t down) {
  stat_up_.fetch_add(up, std::memory_order_relaxed);
  stat_down_.fetch_add(down, std::memory_order_relaxed);
  boost::asio::post(strand_, [self = shared_from_this(), session_id, mode] {
    Slot* slot = self->find(session_id);
    if (!slot) return;
    self->uncount_channel(*slot, mode);
    if (mode == hostsdb::Mode::netcat) slot->exec_cap.reset();
    if (slot->exec + slot->direct == 0) self->arm_idle_timer(*slot);
    self->dispatch();
  });
}

void Gateway::shutdown(const std::string& why) {
  boost::asio::post(strand_, [self = shared_from_this(), why] {
    self->reject_waiting(why);
    for (auto& slot : self->slots_) slot.session->abort(why);
  });
}

Stats Gateway::stats() const {
  Stats s;
  s.endpoint = key_.to_string();
  s.sessions = stat_sessions_.load(std::memory_order_relaxed);
  s.ready_sessions = stat_ready_.load(std::memory_order_relaxed);
  s.channels = stat_channels_.load(std::memory_order_relaxed);
  s.waiting = stat_waiting_.load(std::memory_order_relaxed);
  s.connections = stat_connections_.load(std::memory_order_relaxed);
  s.bytes_up = stat_up_.load(std::memory_order_relaxed);
  s.bytes_down = stat_down_.load(std::memory_order_relaxed);
  s.failures = stat_failures_.load(std::memory_order_relaxed);
  s.handshake_failures = stat_handshake_failures_.load(std::memory_order_relaxed);
  s.session_deaths = stat_deaths_.load(std::memory_order_relaxed);
  s.reconnects = stat_reconnects_.load(std::memory_order_relaxed);
  std::lock_guard lock(error_mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace dvpn::gateway
