// The channel side of a Session: opens, one at a time, and the pump.
#include <boost/asio/post.hpp>

#include "log.hpp"
#include "session.hpp"
#include "tunnel.hpp"

namespace dvpn::ssh {
void Session::adopt(std::shared_ptr<Tunnel> tunnel) {
  boost::asio::post(strand_, [self = shared_from_this(), tunnel = std::move(tunnel)]() mutable {
    if (self->state_ != State::ready) {
      tunnel->session_lost("session to " + self->key_.to_string() + " closed before the channel opened");
      return;
    }
    if (self->opens_.stalled()) {
      self->hand_back({std::move(tunnel)});  // the pool had not heard yet
      return;
    }
    tunnel->attach(*self);
    if (self->take_spare(tunnel)) return;
    self->opens_.push(std::move(tunnel), Tunnel::Clock::now());
    // The first open brings a deadline; the second, the head's slowness check.
    if (self->opens_.size() <= 2) self->arm_open_deadline();
    self->pump();
  });
}

std::chrono::milliseconds Session::slow_open_after() const {
  // A head open four times slower than this session's usual opens is slow,
  // but never before 300 ms (the first opens set the usual) nor after connect_timeout.
  const auto usual = std::chrono::milliseconds(static_cast<long>(usual_open_ms_ * 4));
  return std::clamp(usual, std::chrono::milliseconds(300),
                    std::max(std::chrono::milliseconds(300), settings_->connect_timeout));
}

void Session::note_open_time(Tunnel::Clock::time_point now) {
  const double ms = std::chrono::duration<double, std::milli>(now - opens_.head_since()).count();
  usual_open_ms_ = usual_open_ms_ == 0 ? ms : 0.8 * usual_open_ms_ + 0.2 * ms;
}

void Session::arm_open_deadline() {
  auto next = opens_.next_check(slow_open_after());
  for (const auto& tunnel : execs_)
    if (!tunnel->abandoned() && (!next || tunnel->deadline() < *next)) next = tunnel->deadline();
  if (!next) return;
  open_timer_.expires_at(*next);
  open_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->on_open_deadline();
  });
}

void Session::on_open_deadline() {
  if (state_ != State::ready) return;
  const auto now = Tunnel::Clock::now();
  auto expiry = opens_.expire(now, slow_open_after());
  const std::string reason = "timeout: no channel to " + key_.to_string() + " within connect_timeout";
  // An exec on a spare channel cannot be cancelled either: it ends as an abandoned open does.
  for (const auto& tunnel : execs_)
    if (!tunnel->abandoned() && tunnel->deadline() <= now) tunnel->abandon(reason);
  // The head's open must run to completion (libssh2 is mid-open for it); its client is answered now.
  if (expiry.abandon_head) opens_.head()->abandon(reason);
  for (auto& tunnel : expiry.expired) {
    tunnel->reject(reason);
    open_finished(std::move(tunnel), OpenOutcome::failed);
  }
  if (expiry.abandon_head) {
    static log::Limited stuck_warning(std::chrono::seconds(5));
    stuck_warning.warn([&](log::Line& line) {
      line << "gateway " << key_.to_string() << ": session " << id_ << " stuck on a channel open past connect_timeout; "
           << expiry.handed_back.size() << " queued opens moved to other sessions";
    });
  } else if (expiry.head_slow) {
    DVPN_LOG(debug) << peer() << ": a channel open has waited "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(Tunnel::Clock::now() - opens_.head_since())
                           .count()
                    << "ms for the far end; " << expiry.handed_back.size() << " queued opens moved to other sessions";
  }
  // The pool holds direct opens back while this session has one in flight:
  // tell it not to wait for this one (no new opens here until it ends).
  if (expiry.abandon_head || expiry.head_slow) emit(SessionEvent::of(SessionEvent::Kind::open_slow));
  hand_back(std::move(expiry.handed_back));
  arm_open_deadline();
}

void Session::hand_back(std::vector<std::shared_ptr<Tunnel>> tunnels) {
  // Last first: the pool puts each at the head of its queue, so they keep their order.
  for (auto it = tunnels.rbegin(); it != tunnels.rend(); ++it) open_finished(std::move(*it), OpenOutcome::moved);
}

void Session::open_finished(std::shared_ptr<Tunnel> tunnel, OpenOutcome outcome) {
  auto event = SessionEvent::of(SessionEvent::Kind::open_finished);
  event.mode = tunnel->mode();
  event.outcome = outcome;
  if (outcome == OpenOutcome::far_end_full || outcome == OpenOutcome::moved) event.tunnel = std::move(tunnel);
  emit(std::move(event));
}

void Session::step_opening() {
  if (spare_opening_ && !step_spare_open()) return;
  while (!opens_.empty() && state_ == State::ready) {
    std::shared_ptr<Tunnel> tunnel = opens_.head();
    const Tunnel::OpenResult result = tunnel->try_open();
    if (result == Tunnel::OpenResult::pending && !tunnel->has_channel()) return;  // libssh2's one open runs
    const auto now = Tunnel::Clock::now();
    if (!tunnel->abandoned()) note_open_time(now);
    opens_.pop_head(now);
    arm_open_deadline();
    if (result == Tunnel::OpenResult::pending) {
      // Open, its command starting: execs run in parallel, so the session's
      // one open is free for the next connection.
      execs_.push_back(std::move(tunnel));
      continue;
    }
    if (!finish_open(std::move(tunnel), static_cast<int>(result))) return;
  }
  maybe_open_spare();
}

bool Session::finish_open(std::shared_ptr<Tunnel> tunnel, int result_code) {
  switch (static_cast<Tunnel::OpenResult>(result_code)) {
    case Tunnel::OpenResult::opened:
      DVPN_LOG(debug) << "session " << id_ << ": channel for " << tunnel->connection().client_text() << " open after "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(Tunnel::Clock::now() -
                                                                               tunnel->connection().started())
                             .count()
                      << "ms, " << opens_.size() << " more queued";
      tunnels_.push_back(tunnel);
      open_finished(std::move(tunnel), OpenOutcome::opened);
      return true;
    case Tunnel::OpenResult::refused:
      if (!tunnel->abandoned() && tunnel->mode() == hostsdb::Mode::netcat) {
        // A session channel is refused only for lack of slots, never
        // because of the destination (that is netcat's exit status).
        DVPN_LOG(debug) << "session " << id_ << ": far end refused a session channel: " << tunnel->open_error();
        open_finished(std::move(tunnel), OpenOutcome::far_end_full);
        return true;
      }
      if (!tunnel->abandoned()) tunnel->reject("far-end-refused: " + tunnel->open_error());
      open_finished(std::move(tunnel), OpenOutcome::failed);
      return true;
    case Tunnel::OpenResult::session_broken:
      fail("opening a channel: " + tunnel->open_error());
      tunnel->session_lost("opening a channel");
      return false;
    case Tunnel::OpenResult::pending:
      break;
  }
  return true;
}

void Session::pump() {
  pump_scheduled_ = false;
  if (state_ == State::handshake || state_ == State::auth || state_ == State::prelude) step_setup();
  if (state_ == State::ready) {
    if (prelude_) step_prelude();
    if (!execs_.empty()) step_execs();
    bool more = false;
    for (int round = 0; round < 4 && state_ == State::ready; ++round) {
      step_opening();
      // Decode what arrived first, so wants_step() sees every channel's data:
      // also what a call before this loop (the prelude's, an exec's) left
      // inside libssh2. Only after that pass is the flag spent.
      drain_transport();
      rescan_ = false;
      const std::uint64_t consumed = wire_.consumed();
      for (std::size_t i = 0; i < tunnels_.size() && state_ == State::ready; ++i) {
        if (!tunnels_[i]->wants_step()) continue;
        std::shared_ptr<Tunnel> tunnel = tunnels_[i];  // a step may end the session and clear tunnels_
        more |= tunnel->step();
        // Opens wait for one reply each and go one at a time: give them a go
        // between busy channels, or a busy session starves its newcomers.
        if (!opens_.empty()) step_opening();
      }
      drain_transport();
      if (wire_.consumed() == consumed && !rescan_) break;  // nothing arrived that a tunnel has not seen
      more = true;
    }
    std::erase_if(tunnels_, [](const auto& t) { return t->released(); });
    if (more && state_ == State::ready) schedule_pump();
  }
  keep_io_going();
}

void Session::wake(const std::shared_ptr<Tunnel>& tunnel) {
  if (state_ != State::ready) return;
  // rescan_ is left as it is: set before, it still needs the pump's decode pass.
  const std::uint64_t consumed = wire_.consumed();
  bool more = tunnel->step();
  if (state_ != State::ready) return;
  if (tunnel->released()) std::erase(tunnels_, tunnel);
  // It took SSH input that other channels may be waiting for, or it has more to do.
  if (wire_.consumed() != consumed || more || rescan_) schedule_pump();
  keep_io_going();
}

void Session::keep_io_going() {
  auto self = shared_from_this();
  wire_.flush_soon(self);
  wire_.read(self);
}

void Session::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  boost::asio::post(strand_, [self = shared_from_this()] { self->pump(); });
}

void Session::drain_transport() {
  if (!wire_.has_input() && !rescan_) return;
  for (std::size_t i = 0; i < tunnels_.size() && state_ == State::ready; ++i) {
    std::shared_ptr<Tunnel> tunnel = tunnels_[i];
    if (tunnel->pull_input()) return;
  }
}

}  // namespace dvpn::ssh
