#pragma once
// Readiness for service managers: systemd's sd_notify protocol (a datagram
// to $NOTIFY_SOCKET), spoken directly so dvpnd needs no libsystemd.
#include <string_view>

namespace dvpn {

// Sends e.g. "READY=1" if the daemon runs under Type=notify; no-op otherwise.
void notify_service_manager(std::string_view state);

}  // namespace dvpn
