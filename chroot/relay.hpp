#pragma once
// dvpn-gate's copy loop: connects to the checked destination and relays
// between it and the SSH channel (stdin/stdout) with exact half-close.
#include <chrono>

#include "gate.hpp"

namespace dvpn::chroot {

// Connects to `to`, then copies `in` -> socket and socket -> `out` until both
// directions ended: EOF on `in` becomes shutdown(SHUT_WR) on the socket, EOF
// from the socket closes `out`. Returns the exit status: 0 after both
// directions ended, 1 (with a line on stderr) when the connect or a transfer
// failed, or when `out`'s reader went away (the gateway closed the channel).
// A connect that has not completed within `connect_timeout` fails.
int relay(const Destination& to, int in, int out,
          std::chrono::milliseconds connect_timeout = default_connect_timeout);

}  // namespace dvpn::chroot
