// The prelude: one exec on a session channel, right after authentication.
//
// OpenSSH's sshd turns TCP_NODELAY on for a connection only when a session
// channel starts a command (ssh_packet_set_interactive, from do_exec). A
// connection that carries only direct-tcpip channels keeps Nagle on, so a
// reply and the EOF/CLOSE right behind it leave as two small packets, the
// second held until the first is acknowledged: one round trip more per
// connection than plain routing. So every session first opens a session
// channel and execs `true` (dvpn-gate exits 0 on it without a word), and
// is ready as soon as that channel is open; the exec's reply and the close
// are handled in the background. A far end that refuses either costs
// nothing but the Nagle delay.
#include "errors.hpp"
#include "log.hpp"
#include "session.hpp"

namespace dvpn::ssh {
namespace {

constexpr char prelude_command[] = "true";
constexpr unsigned prelude_window = 32 * 1024;

}  // namespace

// True once the session may be ready: the prelude channel is open, or refused.
bool Session::step_prelude_open() {
  prelude_ = libssh2_channel_open_ex(ssh_, "session", 7, prelude_window, channel_max_packet, nullptr, 0);
  if (prelude_) {
    note_partial_read();
    return true;
  }
  const int rc = libssh2_session_last_errno(ssh_);
  if (rc == LIBSSH2_ERROR_EAGAIN) return false;
  if (!is_channel_error(rc)) {
    fail("opening the prelude channel: " + last_error(ssh_));
    return false;
  }
  DVPN_LOG(debug) << peer() << ": far end refused the prelude channel (" << last_error(ssh_)
                  << "); sshd may keep Nagle on for direct-tcpip";
  return true;
}

void Session::step_prelude() {
  if (!prelude_exec_done_) {
    drain_before_request(prelude_, scratch());
    const int rc = libssh2_channel_process_startup(prelude_, "exec", 4, prelude_command, sizeof prelude_command - 1);
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
    note_partial_read();
    if (rc < 0 && !is_channel_error(rc)) {
      fail("prelude exec: " + last_error(ssh_));
      return;
    }
    prelude_exec_done_ = true;
  }
  const int rc = libssh2_channel_close(prelude_);
  if (rc == LIBSSH2_ERROR_EAGAIN) return;
  note_partial_read();
  libssh2_channel_free(prelude_);
  prelude_ = nullptr;
}

}  // namespace dvpn::ssh
