#pragma once
// Classifies libssh2 return codes.
#include <libssh2.h>

#include <string>

namespace dvpn::ssh {

// True for errors that concern one channel only (refused open, closed
// channel, ...); every other error means the session itself is broken.
bool is_channel_error(int rc) noexcept;

// libssh2's last error message for the session, e.g. "Channel open failure (connect failed)".
std::string last_error(LIBSSH2_SESSION* session);

}  // namespace dvpn::ssh
