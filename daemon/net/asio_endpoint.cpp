#include "asio_endpoint.hpp"

#include <algorithm>

namespace dvpn::net {

boost::asio::ip::tcp::endpoint to_asio(const hostsdb::IpEndpoint& endpoint) {
  const auto& bytes = endpoint.ip.bytes;
  if (endpoint.ip.is_v4()) {
    boost::asio::ip::address_v4::bytes_type v4;
    std::copy(bytes.begin() + 12, bytes.end(), v4.begin());
    return {boost::asio::ip::address_v4(v4), endpoint.port};
  }
  boost::asio::ip::address_v6::bytes_type v6;
  std::copy(bytes.begin(), bytes.end(), v6.begin());
  return {boost::asio::ip::address_v6(v6), endpoint.port};
}

}  // namespace dvpn::net
