#pragma once
#include <string>
#include <string_view>

namespace dvpn::ssh {

// Standard base64 with padding (RFC 4648), as known_hosts and key files use.
std::string base64_encode(std::string_view bytes);
// Decodes, skipping whitespace; returns "" on malformed input.
std::string base64_decode(std::string_view text);

}  // namespace dvpn::ssh
