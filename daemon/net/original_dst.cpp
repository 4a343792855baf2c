#include "original_dst.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

// The netfilter headers clash with glibc's and Asio's (doc/ssh-notes.md §5);
// both option numbers are fixed kernel ABI.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace dvpn::net {
namespace {

std::optional<hostsdb::IpEndpoint> from_sockaddr(const sockaddr_storage& ss) {
  hostsdb::IpEndpoint dst;
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    dst.ip = hostsdb::Ip::from_v4(ntohl(sin.sin_addr.s_addr));
    dst.port = ntohs(sin.sin_port);
    return dst;
  }
  if (ss.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    std::array<std::uint8_t, 16> bytes;
    std::memcpy(bytes.data(), &sin6.sin6_addr, 16);
    dst.ip = hostsdb::Ip::from_v6(bytes);
    dst.port = ntohs(sin6.sin6_port);
    return dst;
  }
  return std::nullopt;
}

std::optional<hostsdb::IpEndpoint> local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return from_sockaddr(ss);
}

}  // namespace

std::optional<hostsdb::IpEndpoint> original_destination(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  // An IPv4 client (also one arriving on a dual-stack IPv6 listener) is only
  // known to the IPv4 NAT table; a native IPv6 client only to the IPv6 one.
  bool found = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len) == 0;
  if (!found) {
    len = sizeof ss;
    found = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len) == 0;
  }
  if (!found) return std::nullopt;
  auto dst = from_sockaddr(ss);
  auto self = local_address(fd);
  if (!dst || (self && *self == *dst)) return std::nullopt;
  return dst;
}

}  // namespace dvpn::net
