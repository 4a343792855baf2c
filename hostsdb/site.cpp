#include "site.hpp"

namespace dvpn::hostsdb {

const char* to_string(Mode mode) noexcept {
  switch (mode) {
    case Mode::netcat: return "netcat";
    case Mode::direct: return "direct";
  }
  return "unknown";
}

}  // namespace dvpn::hostsdb
