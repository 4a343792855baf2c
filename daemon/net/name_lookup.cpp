#include "name_lookup.hpp"

#include <netdb.h>

#include <boost/asio/post.hpp>

#include <atomic>
#include <cstring>
#include <system_error>
#include <thread>

namespace dvpn::net {
namespace {

using boost::asio::ip::tcp;

std::atomic<unsigned> lookups_in_flight{0};
constexpr unsigned max_lookups_in_flight = 32;

std::vector<tcp::endpoint> endpoints_of(const addrinfo* list) {
  std::vector<tcp::endpoint> endpoints;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    tcp::endpoint endpoint;
    if (ai->ai_addrlen > endpoint.capacity()) continue;
    std::memcpy(endpoint.data(), ai->ai_addr, ai->ai_addrlen);
    endpoint.resize(ai->ai_addrlen);
    endpoints.push_back(endpoint);
  }
  return endpoints;
}

}  // namespace

std::string lookup_async(const std::string& host, std::uint16_t port, boost::asio::any_io_executor executor,
                         LookupDone done) {
  if (lookups_in_flight.fetch_add(1) >= max_lookups_in_flight) {
    lookups_in_flight.fetch_sub(1);
    return std::to_string(max_lookups_in_flight) + " name lookups already in flight (DNS not answering?)";
  }
  try {
    std::thread([host, service = std::to_string(port), executor, done = std::move(done)]() mutable {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
      addrinfo* found = nullptr;
      const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      std::vector<tcp::endpoint> endpoints = rc == 0 ? endpoints_of(found) : std::vector<tcp::endpoint>{};
      if (found) ::freeaddrinfo(found);
      lookups_in_flight.fetch_sub(1);
      boost::asio::post(executor, [rc, endpoints = std::move(endpoints), done = std::move(done)]() mutable {
        done(rc, std::move(endpoints));
      });
    }).detach();
  } catch (const std::system_error& e) {
    lookups_in_flight.fetch_sub(1);
    return std::string("no thread for the lookup: ") + e.what();
  }
  return {};
}

}  // namespace dvpn::net
