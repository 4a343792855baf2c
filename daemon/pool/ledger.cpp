#include "ledger.hpp"

#include <algorithm>

namespace dvpn::pool {
namespace {

constexpr Duration first_backoff{1000};
constexpr Duration max_backoff{30000};
// Opens queued on one session before another session is worth a handshake.
constexpr unsigned opens_per_session_before_spreading = 2;
// Handshakes in flight to one endpoint at most (OpenSSH's MaxStartups
// starts dropping unauthenticated connections beyond 10), and waiting
// connections per handshake before another one starts.
constexpr unsigned max_handshakes = 4;
constexpr std::size_t waiting_per_handshake = 4;
// A direct open queues on a session only if the opens ahead of it there
// take less than this (each a round trip); otherwise it waits in the pool.
constexpr std::chrono::microseconds queue_at_most{5000};
// A path whose round trip is not known (through a relay): as window_plan assumes.
constexpr std::chrono::microseconds assumed_rtt{100000};

}  // namespace

Ledger::Slot* Ledger::find(SessionId id) {
  auto it = std::find_if(slots_.begin(), slots_.end(), [id](const Slot& s) { return s.id == id; });
  return it == slots_.end() ? nullptr : &*it;
}

const Ledger::Slot* Ledger::find(SessionId id) const { return const_cast<Ledger*>(this)->find(id); }

void Ledger::session_started(SessionId id) {
  handshakes_++;
  Slot slot;
  slot.id = id;
  slots_.push_back(slot);
}

void Ledger::session_ready(SessionId id, std::optional<std::chrono::microseconds> rtt) {
  Slot* slot = find(id);
  if (!slot || slot->ready) return;
  slot->ready = true;
  slot->rtt = rtt;
  handshakes_--;
  failed_since_ready_ = false;
  backoff_ = Duration{0};
  retry_after_ = {};
}

void Ledger::session_rtt(SessionId id, std::chrono::microseconds rtt) {
  if (Slot* slot = find(id)) slot->rtt = rtt;
}

void Ledger::forget(SessionId id) {
  const Slot* slot = find(id);
  if (!slot) return;
  if (!slot->ready) handshakes_--;
  std::erase_if(slots_, [id](const Slot& s) { return s.id == id; });
}

void Ledger::session_ended(SessionId id, bool was_ready, Clock::time_point now) {
  if (!find(id)) return;
  forget(id);
  failed_since_ready_ = true;
  if (was_ready || backing_off(now)) return;
  backoff_ = std::min(max_backoff, backoff_.count() ? backoff_ * 2 : first_backoff);
  retry_after_ = now + backoff_;
}

void Ledger::session_closed_idle(SessionId id) { forget(id); }

void Ledger::channel_assigned(SessionId id, Mode mode) {
  Slot* slot = find(id);
  if (!slot) return;
  (mode == Mode::netcat ? slot->exec : slot->direct)++;
  slot->opening++;
}

void Ledger::uncount(Slot& slot, Mode mode) {
  unsigned& count = mode == Mode::netcat ? slot.exec : slot.direct;
  if (count > 0) count--;
}

Ledger::AfterOpen Ledger::open_finished(SessionId id, Mode mode, OpenOutcome outcome) {
  Slot* slot = find(id);
  if (!slot) return {};
  if (slot->opening > 0) slot->opening--;
  // While stalled the session is given no opens, so any other outcome is the stuck open's.
  slot->stalled = outcome == OpenOutcome::moved;
  if (outcome == OpenOutcome::opened) return {};
  uncount(*slot, mode);
  if (outcome != OpenOutcome::far_end_full) return {};
  // OpenSSH frees a slot only once the far-end command has exited and been
  // reaped, a little after its channel closed: until one of this session's
  // channels ends, its current count is its limit.
  slot->exec_cap = slot->exec;
  AfterOpen after;
  after.pause_for_far_end = slot->exec == 0;
  return after;
}

void Ledger::open_slow(SessionId id) {
  if (Slot* slot = find(id)) slot->stalled = true;
}

void Ledger::channel_released(SessionId id, Mode mode) {
  Slot* slot = find(id);
  if (!slot) return;
  uncount(*slot, mode);
  if (mode == Mode::netcat) slot->exec_cap.reset();
}

void Ledger::refusal_pause_over() {
  for (auto& slot : slots_)
    if (slot.exec_cap == 0u) slot.exec_cap.reset();
}

void Ledger::network_changed() {
  backoff_ = Duration{0};
  retry_after_ = {};
}

bool Ledger::has_room(const Slot& slot, Mode mode) const {
  if (mode == Mode::direct) return slot.direct < limits_.direct_channels_per_session;
  return slot.exec < std::min(limits_.exec_channels_per_session, slot.exec_cap.value_or(~0u));
}

std::optional<SessionId> Ledger::pick(Mode mode, bool or_queue) const {
  const Slot* best = nullptr;
  auto busier = [](const Slot& a, const Slot& b) {
    if (a.opening != b.opening) return a.opening > b.opening;
    return a.exec + a.direct > b.exec + b.direct;
  };
  for (const auto& slot : slots_) {
    if (!slot.ready || slot.stalled || !has_room(slot, mode)) continue;
    if (!best || busier(*best, slot)) best = &slot;
  }
  if (!best) return std::nullopt;
  // A direct open queued behind another on its session waits a round trip
  // for each one ahead of it. Held in the pool instead, it goes to whichever
  // session finishes an open first (each such end dispatches again), or to
  // a session that becomes ready meanwhile. Netcat opens are not held: a
  // session's spare channels take several at once.
  if (mode == Mode::direct && !or_queue && best->opening * best->rtt.value_or(assumed_rtt) >= queue_at_most)
    return std::nullopt;
  return best->id;
}

bool Ledger::want_session(std::size_t connections_waiting, Clock::time_point now) const {
  // A stalled session keeps its channels but takes no opens, so it does not
  // count against the limit (up to twice the limit in all): a blackholed
  // destination must not block the other connections to that endpoint.
  const auto stalled = static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.stalled; }));
  if (slots_.size() - stalled >= limits_.sessions || slots_.size() >= 2 * limits_.sessions || backing_off(now))
    return false;
  // Opens go one at a time per session, each a round trip: connections
  // waiting for a session and opens queued behind another on their session
  // are both served sooner by one more session.
  std::size_t queued = connections_waiting;
  for (const auto& slot : slots_)
    if (slot.ready && slot.opening >= opens_per_session_before_spreading) queued += slot.opening - 1;
  if (queued > 0 && handshakes_ < max_handshakes && queued > handshakes_ * waiting_per_handshake) return true;
  // In use: warm sessions come up ahead of the next burst, a few handshakes at a time.
  if (slots_.size() < limits_.warm_sessions && handshakes_ < max_handshakes && channels() > 0) return true;
  if (handshakes_ > 0) return false;
  // With none left (a ready session died), reconnect at once: the next
  // connection finds a ready session instead of paying the handshake.
  if (slots_.empty()) return true;
  // Spread busy channels over a few sessions: each session runs on one
  // thread at a time (one per core lets busy streams use them all), and each
  // is a TCP connection with its own window and loss recovery.
  bool all_busy = std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready && s.exec + s.direct > 0; });
  return all_busy && slots_.size() < limits_.spread_sessions;
}

bool Ledger::idle(SessionId id) const {
  const Slot* slot = find(id);
  return slot && slot->ready && slot->exec + slot->direct == 0;
}

bool Ledger::keep_warm(SessionId id) const {
  return idle(id) && slots_.size() <= limits_.warm_sessions && channels() > 0;
}

unsigned Ledger::ready_sessions() const {
  return static_cast<unsigned>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready; }));
}

unsigned Ledger::channels() const {
  unsigned n = 0;
  for (const auto& slot : slots_) n += slot.exec + slot.direct;
  return n;
}

}  // namespace dvpn::pool
