#pragma once
// What a session tells the pool that owns it: one event type, delivered on
// the session's strand (the pool re-posts it onto its own). Each channel open
// the pool hands a session ends in exactly one `open_finished`, and each open
// that ended `opened` in exactly one `channel_released`, unless the session
// ends first (`ended` covers everything it still held).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "site.hpp"

namespace dvpn::ssh {

class Tunnel;

enum class OpenOutcome {
  opened,        // the channel carries the connection until `channel_released`
  failed,        // refused, timed out or abandoned: the connection was ended, its slot is free
  far_end_full,  // a session channel refused for lack of far-end slots (OpenSSH MaxSessions): retry elsewhere
  moved,         // queued behind an open that outlived its deadline: libssh2 1.10 cannot start
                 // another open on the session until that one finishes, so retry elsewhere
};

struct SessionEvent {
  // rtt: a ready session's round-trip time, sampled on every tick.
  // open_slow: the open in flight is slow or stuck; until an open_finished
  // says it ended, the session should get no new opens.
  enum class Kind { ready, ended, open_finished, open_slow, channel_released, rtt };
  Kind kind = Kind::ready;
  std::uint64_t session = 0;
  hostsdb::Mode mode = hostsdb::Mode::netcat;  // open_finished, channel_released
  OpenOutcome outcome = OpenOutcome::opened;   // open_finished
  std::shared_ptr<Tunnel> tunnel;              // open_finished far_end_full or moved: goes back to the pool
  bool was_ready = false;                      // ended: it had carried channels (a death, not a failed setup)
  std::string detail;                          // ended: why
  std::uint64_t bytes_up = 0, bytes_down = 0;  // channel_released
  std::optional<std::chrono::microseconds> rtt;  // ready, rtt: the transport's round-trip time

  static SessionEvent of(Kind kind) {
    SessionEvent event;
    event.kind = kind;
    return event;
  }
};

using SessionEvents = std::function<void(SessionEvent)>;

}  // namespace dvpn::ssh
