#include "local_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dvpn::net {
namespace {

std::string address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  const void* raw = address.ss_family == AF_INET
                        ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(address).sin_addr)
                        : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
  inet_ntop(address.ss_family, raw, text, sizeof text);
  return text;
}

}  // namespace

std::optional<std::string> vanished_local_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  if (address.ss_family == AF_INET) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(address);
    if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) return std::nullopt;
    v4.sin_port = 0;
  } else if (address.ss_family == AF_INET6) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    if (IN6_IS_ADDR_UNSPECIFIED(&v6.sin6_addr)) return std::nullopt;
    v6.sin6_port = 0;
  } else {
    return std::nullopt;  // a relayed session's socket pair: nothing of the network's
  }
  // The kernel's own answer to "is this address ours": binding to it. A
  // datagram socket, so no TCP port is taken even for the instant it lives.
  const int probe = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return std::nullopt;
  const bool gone = bind(probe, reinterpret_cast<const sockaddr*>(&address), length) != 0 && errno == EADDRNOTAVAIL;
  close(probe);
  if (!gone) return std::nullopt;
  return address_text(address);
}

}  // namespace dvpn::net
