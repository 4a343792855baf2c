#pragma once
// Whether a connected socket's own address is still one of this host's.
//
// The kernel does not end a TCP connection whose local address was removed
// (a laptop leaving its network): it can no longer send and hears nothing,
// and only keepalive or TCP_USER_TIMEOUT would end it, seconds later. Asked
// after an address change (LinkWatcher), this finds such a socket at once.
#include <optional>
#include <string>

namespace dvpn::net {

// The socket's local address as text ("198.51.100.1", "2001:db8::1") if it
// is no longer on this host; nullopt while it is, or when it cannot tell (not
// an IP socket, unbound, or net.ipv4.ip_nonlocal_bind lets any address bind).
std::optional<std::string> vanished_local_address(int fd);

}  // namespace dvpn::net
