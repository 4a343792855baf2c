#pragma once
// The bookkeeping of one endpoint's pool, with no I/O: which sessions exist,
// how many channels each carries or is opening, what the far end let us
// have, and when the next handshake may start. Every event is one
// transition; the pool asks it where a connection goes and whether another
// session is worth a handshake. doc: README "How dvpnd is arranged".
//
// When does a channel count against a session's limits? From
// `channel_assigned` until either `open_finished` with any outcome but
// `opened`, or `channel_released`, or the session's end.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ssh/session_event.hpp"

namespace dvpn::pool {

using Duration = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using SessionId = std::uint64_t;
using hostsdb::Mode;
using ssh::OpenOutcome;

struct Limits {
  unsigned exec_channels_per_session = 10;
  unsigned direct_channels_per_session = 2000;
  unsigned sessions = 16;
  // While every session carries a channel, another one is opened ahead, up
  // to this many: the next connection gets a TCP connection (and, on the
  // far end, an sshd) of its own, so bulk streams do not share one. Each TCP
  // connection has its own congestion window, buffer limit and loss
  // recovery: four bulk streams over a long path move as four routed ones
  // do, and one stream's loss stalls only that one.
  unsigned spread_sessions = 4;
  // Sessions kept ready while any of them carries a channel: a burst of new
  // connections finds that many opening at once (one per session per round trip).
  unsigned warm_sessions = 0;
  Duration idle_timeout{60000};
  Duration connect_timeout{5000};
};

class Ledger {
 public:
  explicit Ledger(Limits limits) : limits_(limits) {}

  // --- events ---
  void session_started(SessionId id);
  // With its path's round-trip time, if known (a session through a relay has none).
  void session_ready(SessionId id, std::optional<std::chrono::microseconds> rtt = std::nullopt);
  void session_rtt(SessionId id, std::chrono::microseconds rtt);
  // Forgets the session and whatever it counted. A session that never became
  // ready backs the next handshake off (1 s, doubling to 30 s; handshakes
  // that fail together, started before the backoff, double it once).
  void session_ended(SessionId id, bool was_ready, Clock::time_point now);
  // Closed for idleness by the pool: no failure, no backoff.
  void session_closed_idle(SessionId id);
  void channel_assigned(SessionId id, Mode mode);
  struct AfterOpen {
    bool pause_for_far_end = false;  // far end full with nothing of ours left to free: retry after a pause
  };
  AfterOpen open_finished(SessionId id, Mode mode, OpenOutcome outcome);
  // The session's open in flight is slow or stuck: it takes no opens until
  // that one finishes (any outcome but `moved`), and does not count against
  // the session limit meanwhile.
  void open_slow(SessionId id);
  void channel_released(SessionId id, Mode mode);
  // The pause after a refusal is over: try the far end's slots again.
  void refusal_pause_over();
  // The host gained an address, route or link: what the failed handshakes
  // taught is stale (the network may be back), so the next one may start at
  // once and a failure backs off from 1 s again. The next session still
  // counts as a reconnect.
  void network_changed();

  // --- questions ---
  // The ready session with room for a channel of `mode`: fewest opens in
  // flight first (libssh2 1.10 opens one at a time per session), then fewest
  // channels. None for a direct open while every such session has opens in
  // flight worth waiting for (a few ms of round trips; on a LAN queueing is
  // cheaper than another session): the connection waits for the first of
  // them to finish; unless `or_queue` (it waited connect_timeout for that):
  // then it queues behind the opens of the least busy one, with a
  // connect_timeout of its own there.
  std::optional<SessionId> pick(Mode mode, bool or_queue = false) const;
  // Another handshake: for connections waiting (several handshakes at once
  // for a burst: one per few waiting connections, at most a few in flight,
  // since each takes several round trips), for opens queueing up, to spread
  // busy channels over spread_sessions, or to replace the last session after its death.
  bool want_session(std::size_t connections_waiting, Clock::time_point now) const;
  bool known(SessionId id) const { return find(id) != nullptr; }
  bool idle(SessionId id) const;  // known, ready and carrying nothing
  // An idle session to keep past idle_timeout: the pool is in use and has no more than warm_sessions.
  bool keep_warm(SessionId id) const;
  bool connecting() const noexcept { return handshakes_ > 0; }
  bool backing_off(Clock::time_point now) const noexcept { return now < retry_after_; }
  Duration backoff() const noexcept { return backoff_; }
  // A session failed since one was last ready: the next one is a reconnect.
  bool failed_since_ready() const noexcept { return failed_since_ready_; }
  unsigned sessions() const noexcept { return static_cast<unsigned>(slots_.size()); }
  unsigned ready_sessions() const;
  unsigned channels() const;

 private:
  struct Slot {
    SessionId id = 0;
    bool ready = false;
    unsigned exec = 0, direct = 0;
    unsigned opening = 0;              // assigned opens not finished yet
    std::optional<std::chrono::microseconds> rtt;  // of its path, sampled by the session
    std::optional<unsigned> exec_cap;  // the far end refused: its real limit for now
    bool stalled = false;              // its head open is stuck: no new opens until it finishes
  };
  Slot* find(SessionId id);
  const Slot* find(SessionId id) const;
  void uncount(Slot& slot, Mode mode);
  void forget(SessionId id);
  bool has_room(const Slot& slot, Mode mode) const;

  Limits limits_;
  std::vector<Slot> slots_;
  unsigned handshakes_ = 0;  // sessions started and not ready yet
  Clock::time_point retry_after_{};
  Duration backoff_{0};
  bool failed_since_ready_ = false;
};

}  // namespace dvpn::pool
