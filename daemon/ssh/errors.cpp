#include "errors.hpp"

namespace dvpn::ssh {

bool is_channel_error(int rc) noexcept {
  switch (rc) {
    case LIBSSH2_ERROR_CHANNEL_FAILURE:
    case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
    case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
    case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
    case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
    case LIBSSH2_ERROR_CHANNEL_CLOSED:
    case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
    // libssh2 1.10's fixed 60 s wait for a reply (doc/ssh-notes.md §2): the
    // session stays usable.
    case LIBSSH2_ERROR_TIMEOUT:
      return true;
    default:
      return false;
  }
}

std::string last_error(LIBSSH2_SESSION* session) {
  char* message = nullptr;
  int len = 0;
  int rc = libssh2_session_last_error(session, &message, &len, 0);
  std::string text = message && len > 0 ? std::string(message, static_cast<std::size_t>(len)) : "unknown error";
  return text + " (" + std::to_string(rc) + ")";
}

}  // namespace dvpn::ssh
