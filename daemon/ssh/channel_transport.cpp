#include "channel_transport.hpp"

namespace dvpn::ssh {

ChannelTransport::ChannelTransport(boost::asio::ip::tcp::socket local_end, std::string relay_text,
                                   std::shared_ptr<const CarrierNote> note)
    : SocketTransport(std::move(local_end)), relay_text_(std::move(relay_text)), note_(std::move(note)) {}

std::string ChannelTransport::why_lost() const {
  std::string why = note_ ? note_->get() : std::string();
  if (why.empty()) return {};
  return "; its channel through relay " + relay_text_ + " ended: " + why;
}

}  // namespace dvpn::ssh
