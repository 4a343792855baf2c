#pragma once
// The transport of a session that runs inside a channel of another session
// (a site reached through a relay, `RELAY>TARGET` in the hosts map).
//
// The outer session's channel is an ordinary direct-tcpip Tunnel (to the
// target's sshd as the relay sees it); its "client" is one end of a local
// socket pair, and this transport is the other end. The kernel's socket
// buffers between the two are the only thing the two strands share:
//
// - strands: the Tunnel and its end run on the outer session's strand, this
//   end on the inner session's; neither calls into the other, so nothing
//   needs marshalling and neither session can hold up the other;
// - lifetimes: each side owns its descriptor; when one goes (session died,
//   channel refused or closed) the other reads EOF or a reset, and the
//   CarrierNote, shared and locked, says why;
// - backpressure: both ways, as for any client socket: the Tunnel reads the
//   pair only when the outer channel's window and session output have room,
//   and reads the channel only when the pair took everything; the inner
//   Wire writes only as fast as the pair drains;
// - half-close: the Tunnel's exact FIN handling, unchanged.
#include <memory>
#include <mutex>
#include <string>

#include "transport.hpp"

namespace dvpn::ssh {

// Why the carrier channel ended, as the Tunnel's connection logged it.
class CarrierNote {
 public:
  void set(std::string why) {
    std::lock_guard lock(mu_);
    if (why_.empty()) why_ = std::move(why);
  }
  std::string get() const {
    std::lock_guard lock(mu_);
    return why_;
  }

 private:
  mutable std::mutex mu_;
  std::string why_;
};

class ChannelTransport final : public SocketTransport {
 public:
  // `local_end` is on the inner session's strand; `relay_text` names the
  // outer endpoint in errors.
  ChannelTransport(boost::asio::ip::tcp::socket local_end, std::string relay_text,
                   std::shared_ptr<const CarrierNote> note);
  std::string why_lost() const override;

 private:
  std::string relay_text_;
  std::shared_ptr<const CarrierNote> note_;
};

}  // namespace dvpn::ssh
