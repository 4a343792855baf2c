#include "endpoint_pool.hpp"

#include <boost/asio/post.hpp>

#include "log.hpp"

namespace dvpn::pool {
namespace {

constexpr Duration refused_pause{50};
// How long a failing path keeps retrying in the background after a
// connection last went to a later path instead.
constexpr Duration probe_for{10 * 60 * 1000};
// Retries are bounded by the connection's deadline; this only stops a far
// end that refuses every session channel from cycling a connection forever.
constexpr int max_retries = 100;

}  // namespace

EndpointPool::EndpointPool(boost::asio::io_context& io, SshPath key,
                           std::shared_ptr<const ssh::SessionSettings> settings, Limits limits, ssh::Session::Dial dial)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      key_(std::move(key)),
      dial_(std::move(dial)),
      settings_(std::move(settings)),
      limits_(limits),
      ledger_(limits),
      wait_timer_(strand_),
      retry_timer_(strand_),
      probe_timer_(strand_) {}

void EndpointPool::submit(std::shared_ptr<ssh::Tunnel> tunnel, bool probe) {
  if (!probe) stat_connections_.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(strand_, [self = shared_from_this(), tunnel = std::move(tunnel)]() mutable {
    self->waiting_.push_back(std::move(tunnel));
    self->dispatch();
  });
}

void EndpointPool::assign(SessionId id, std::shared_ptr<ssh::Tunnel> tunnel) {
  ledger_.channel_assigned(id, tunnel->mode());
  carried_netcat_ |= tunnel->mode() == Mode::netcat;
  Live& live = sessions_.at(id);
  if (live.idle_timer) live.idle_timer->cancel();
  tunnel->restart_deadline(limits_.connect_timeout);
  live.session->adopt(std::move(tunnel));
}

void EndpointPool::dispatch() {
  while (!waiting_.empty()) {
    const auto id = ledger_.pick(waiting_.front()->mode());
    if (!id) break;
    auto tunnel = std::move(waiting_.front());
    waiting_.pop_front();
    assign(*id, std::move(tunnel));
  }
  const auto now = Clock::now();
  while (ledger_.want_session(waiting_.size(), now)) start_session();
  if (!waiting_.empty() && ledger_.sessions() == 0 && ledger_.backing_off(now)) {
    std::string why;
    {
      std::lock_guard lock(health_mu_);
      why = last_error_;
    }
    reject_waiting("gateway-unreachable: " + key_.to_string() + " (retrying after backoff; last error: " + why + ")");
  }
  publish_counts();
  arm_wait_timer();
}

void EndpointPool::publish_counts() {
  stat_sessions_.store(ledger_.sessions(), std::memory_order_relaxed);
  stat_ready_.store(ledger_.ready_sessions(), std::memory_order_relaxed);
  stat_channels_.store(ledger_.channels(), std::memory_order_relaxed);
  stat_waiting_.store(static_cast<unsigned>(waiting_.size()), std::memory_order_relaxed);
  const bool up = ledger_.ready_sessions() > 0;
  if (up == up_) return;
  up_ = up;
  std::lock_guard lock(health_mu_);
  if (up) up_since_ = Clock::now();
  else up_since_.reset();
}

void EndpointPool::publish_rtt() {
  // The best path is what a new connection gets: the pool picks among the
  // ready sessions, which all run over the same path today.
  std::optional<std::chrono::microseconds> best;
  for (const auto& [id, live] : sessions_)
    if (live.ready && live.rtt && (!best || *live.rtt < *best)) best = live.rtt;
  stat_rtt_us_.store(best ? best->count() : -1, std::memory_order_relaxed);
}

void EndpointPool::start_session() {
  if (ledger_.failed_since_ready()) stat_reconnects_.fetch_add(1, std::memory_order_relaxed);
  auto events = [weak = weak_from_this()](ssh::SessionEvent event) {
    auto self = weak.lock();
    if (!self) return;
    boost::asio::post(self->strand_, [self, event = std::move(event)]() mutable { self->on_event(std::move(event)); });
  };
  auto session = std::make_shared<ssh::Session>(io_, key_.target, settings_, std::move(events), dial_);
  ledger_.session_started(session->id());
  Live live;
  live.session = session;
  sessions_[session->id()] = std::move(live);
  DVPN_LOG(debug) << "gateway " << key_.to_string() << ": opening session " << session->id();
  session->start();
  if (carried_netcat_) session->expect_netcat();
}

void EndpointPool::on_event(ssh::SessionEvent event) {
  using Kind = ssh::SessionEvent::Kind;
  switch (event.kind) {
    case Kind::ready: on_ready(event.session, event.rtt); return;  // it dispatches before the idle check
    case Kind::rtt:
      if (auto it = sessions_.find(event.session); it != sessions_.end()) {
        it->second.rtt = event.rtt;
        if (event.rtt) ledger_.session_rtt(event.session, *event.rtt);
        publish_rtt();
      }
      return;
    case Kind::ended: on_ended(event); break;
    case Kind::open_finished: on_open_finished(std::move(event)); break;
    case Kind::open_slow: ledger_.open_slow(event.session); break;
    case Kind::channel_released:
      stat_up_.fetch_add(event.bytes_up, std::memory_order_relaxed);
      stat_down_.fetch_add(event.bytes_down, std::memory_order_relaxed);
      on_released(event.session, event.mode);
      break;
  }
  dispatch();
}

void EndpointPool::on_ready(SessionId id, std::optional<std::chrono::microseconds> rtt) {
  if (!ledger_.known(id)) return;
  ledger_.session_ready(id, rtt);
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    it->second.ready = true;
    it->second.rtt = rtt;
    publish_rtt();
  }
  {
    std::lock_guard lock(health_mu_);
    failing_ = false;
  }
  failing_now_ = false;
  dispatch();
  if (ledger_.idle(id)) arm_idle_timer(id);
}

void EndpointPool::on_ended(const ssh::SessionEvent& event) {
  if (!ledger_.known(event.session)) return;  // closed for idleness: already forgotten
  ledger_.session_ended(event.session, event.was_ready, Clock::now());
  if (auto it = sessions_.find(event.session); it != sessions_.end()) {
    if (it->second.idle_timer) it->second.idle_timer->cancel();
    sessions_.erase(it);
    publish_rtt();
  }
  record_failure(event.detail);
  (event.was_ready ? stat_deaths_ : stat_handshake_failures_).fetch_add(1, std::memory_order_relaxed);
  if (event.was_ready) {
    DVPN_LOG(warning) << "gateway " << key_.to_string() << ": session " << event.session << " died: " << event.detail;
    return;
  }
  DVPN_LOG(error) << "gateway " << key_.to_string() << ": " << event.detail << " (next attempt in "
                  << ledger_.backoff().count() / 1000.0 << "s)";
  if (ledger_.ready_sessions() == 0) failing_now_ = true;
  if (ledger_.sessions() == 0) hand_off_waiting("gateway-unreachable: " + event.detail);
  arm_probe();
}

void EndpointPool::hand_off_waiting(const std::string& reason) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& tunnel : waiting)
    if (!fallback_ || !fallback_(tunnel)) tunnel->reject(reason);
  stat_waiting_.store(0, std::memory_order_relaxed);
}

long long EndpointPool::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void EndpointPool::keep_probing() {
  probe_until_ms_.store(now_ms() + probe_for.count(), std::memory_order_relaxed);
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->ledger_.sessions() == 0 && !self->ledger_.backing_off(Clock::now())) self->dispatch();
    else self->arm_probe();
  });
}

void EndpointPool::arm_probe() {
  if (now_ms() >= probe_until_ms_.load(std::memory_order_relaxed) || ledger_.sessions() > 0) return;
  probe_timer_.expires_after(ledger_.backoff());
  probe_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    // With no session and the backoff over, dispatch starts one: the probe.
    if (!ec && self->ledger_.sessions() == 0) self->dispatch();
  });
}

void EndpointPool::on_open_finished(ssh::SessionEvent event) {
  const auto after = ledger_.open_finished(event.session, event.mode, event.outcome);
  if (after.pause_for_far_end) pause_after_refusal();
  if (!event.tunnel) return;
  std::string exhausted =
      event.outcome == OpenOutcome::far_end_full
          ? "far-end-refused: " + key_.to_string() + " refused a session channel " + std::to_string(max_retries) +
                " times (" + event.tunnel->open_error() + ")"
          : "timeout: no channel to " + key_.to_string() + " after " + std::to_string(max_retries) + " tries";
  retry_first(std::move(event.tunnel), exhausted);
}

void EndpointPool::on_released(SessionId id, Mode mode) {
  ledger_.channel_released(id, mode);
  if (ledger_.idle(id)) arm_idle_timer(id);
}

void EndpointPool::retry_first(std::shared_ptr<ssh::Tunnel> tunnel, const std::string& exhausted) {
  if (++tunnel->retries > max_retries) {
    tunnel->reject(exhausted);
    return;
  }
  waiting_.push_front(std::move(tunnel));
}

void EndpointPool::pause_after_refusal() {
  retry_timer_.expires_after(refused_pause);
  retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    self->ledger_.refusal_pause_over();
    self->dispatch();
  });
}

void EndpointPool::reject_waiting(const std::string& reason) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& tunnel : waiting) tunnel->reject(reason);
  stat_waiting_.store(0, std::memory_order_relaxed);
}

void EndpointPool::arm_wait_timer() {
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

void EndpointPool::on_wait_timer() {
  const auto now = Clock::now();
  const bool endpoint_down = ledger_.ready_sessions() == 0;
  while (!waiting_.empty() && waiting_.front()->deadline() <= now) {
    auto tunnel = std::move(waiting_.front());
    waiting_.pop_front();
    // Held back only while every session's open was in flight (a far end
    // slow to connect to its destinations): it queues on one now, as plain
    // routing would keep retrying its SYN.
    if (const auto id = ledger_.pick(tunnel->mode(), true)) {
      assign(*id, std::move(tunnel));
      continue;
    }
    // No session on this path within connect_timeout: its site's next path, if any.
    if (endpoint_down && fallback_ && fallback_(tunnel)) continue;
    tunnel->reject(endpoint_down ? "gateway-unreachable: no SSH session to " + key_.to_string() + " within connect_timeout"
                                 : "timeout: every channel to " + key_.to_string() + " busy for connect_timeout");
  }
  if (!endpoint_down) {
    static log::Limited busy_warning(std::chrono::seconds(5));
    busy_warning.warn([&](log::Line& line) {
      line << "gateway " << key_.to_string() << ": all " << ledger_.sessions()
           << " sessions at their channel limit (ssh.max_sessions_per_gateway sessions, each at"
           << " ssh.max_channels_per_session or the far end's MaxSessions); connections waited"
           << " connect_timeout and were reset";
    });
  }
  publish_counts();
  arm_wait_timer();
}

void EndpointPool::arm_idle_timer(SessionId id) {
  Live& live = sessions_.at(id);
  if (!live.idle_timer) live.idle_timer = std::make_shared<boost::asio::steady_timer>(strand_);
  live.idle_timer->expires_after(limits_.idle_timeout);
  live.idle_timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec || !self->ledger_.idle(id)) return;
    if (self->ledger_.keep_warm(id)) {
      self->arm_idle_timer(id);
      return;
    }
    auto session = self->sessions_.at(id).session;
    self->ledger_.session_closed_idle(id);
    self->sessions_.erase(id);
    self->publish_counts();
    self->publish_rtt();
    {
      // It ended well: the endpoint is idle, not down, until a session fails.
      std::lock_guard lock(self->health_mu_);
      self->failing_ = false;
    }
    self->failing_now_ = false;
    session->close_idle();
  });
}

void EndpointPool::record_failure(const std::string& why) {
  stat_failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(health_mu_);
  last_error_ = why;
  last_error_at_ = Clock::now();
  failing_ = true;
}

void EndpointPool::shutdown(const std::string& why) {
  boost::asio::post(strand_, [self = shared_from_this(), why] {
    self->reject_waiting(why);
    for (auto& [id, live] : self->sessions_) live.session->abort(why);
  });
}

void EndpointPool::network_changed(bool gained) {
  boost::asio::post(strand_, [self = shared_from_this(), gained] {
    for (auto& [id, live] : self->sessions_) live.session->check_local_address();
    if (!gained) return;
    self->ledger_.network_changed();
    // Not dispatch() with nothing waiting: it would open a session for a
    // pool that closed its last one for idleness.
    if (!self->waiting_.empty()) self->dispatch();
    else self->arm_probe();  // a failing path kept probing: probe now
  });
}

Stats EndpointPool::stats() const {
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
  const auto rtt_us = stat_rtt_us_.load(std::memory_order_relaxed);
  if (rtt_us >= 0) s.rtt = std::chrono::microseconds(rtt_us);
  std::lock_guard lock(health_mu_);
  s.last_error = last_error_;
  s.last_error_at = last_error_at_;
  s.up_since = up_since_;
  s.failing = failing_;
  return s;
}

}  // namespace dvpn::pool
