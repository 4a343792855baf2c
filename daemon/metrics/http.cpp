#include "http.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <sstream>

#include "log.hpp"

namespace dvpn::metrics {
namespace {

using tcp = boost::asio::ip::tcp;
constexpr std::size_t max_head = 8192;
constexpr auto client_deadline = std::chrono::seconds(10);
constexpr unsigned max_clients = 16;
constexpr auto accept_backoff = std::chrono::milliseconds(100);

std::string response(const char* status, const char* content_type, const std::string& body) {
  std::ostringstream out;
  out << "HTTP/1.1 " << status << "\r\nContent-Type: " << content_type << "\r\nContent-Length: " << body.size()
      << "\r\nConnection: close\r\n\r\n"
      << body;
  return out.str();
}

// One client: read the request head, answer, close; all on one strand.
struct Client : std::enable_shared_from_this<Client> {
  Client(tcp::socket s, std::shared_ptr<const std::function<std::string()>> p, std::shared_ptr<std::atomic<unsigned>> c)
      : socket(std::move(s)), timer(socket.get_executor()), page(std::move(p)), clients(std::move(c)) {}
  ~Client() { clients->fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    timer.expires_after(client_deadline);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      boost::system::error_code ignored;
      self->socket.close(ignored);
    });
    boost::asio::async_read_until(socket, request, "\r\n\r\n",
                                  [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                    self->on_head(ec);
                                  });
  }

  void on_head(const boost::system::error_code& ec) {
    if (ec == boost::asio::error::not_found) {
      reply = response("431 Request Header Fields Too Large", "text/plain", "request head over 8 KiB\n");
    } else if (ec) {
      timer.cancel();
      return;
    } else {
      std::string head(boost::asio::buffers_begin(request.data()), boost::asio::buffers_end(request.data()));
      reply = http_reply(head, *page);
    }
    boost::asio::async_write(socket, boost::asio::buffer(reply),
                             [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                               boost::system::error_code ignored;
                               self->socket.shutdown(tcp::socket::shutdown_send, ignored);
                               self->socket.close(ignored);
                               self->timer.cancel();
                             });
  }

  tcp::socket socket;
  boost::asio::steady_timer timer;
  boost::asio::streambuf request{max_head};
  std::string reply;
  std::shared_ptr<const std::function<std::string()>> page;
  std::shared_ptr<std::atomic<unsigned>> clients;
};

}  // namespace

std::string http_reply(const std::string& head, const std::function<std::string()>& page) {
  const auto line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  const auto second_space = first_space == std::string::npos ? std::string::npos : line.find(' ', first_space + 1);
  if (second_space == std::string::npos || line.compare(second_space + 1, 5, "HTTP/") != 0)
    return response("400 Bad Request", "text/plain", "bad request line\n");
  const std::string method = line.substr(0, first_space);
  std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));  // scrapers may add parameters
  if (method != "GET") return response("405 Method Not Allowed", "text/plain", "only GET\n");
  if (target != "/metrics") return response("404 Not Found", "text/plain", "not found; metrics are at /metrics\n");
  return response("200 OK", "text/plain; version=0.0.4", page());
}

HttpServer::HttpServer(boost::asio::io_context& io, const tcp::endpoint& endpoint, std::function<std::string()> page)
    : io_(io),
      acceptor_(io),
      retry_timer_(io),
      page_(std::make_shared<const std::function<std::string()>>(std::move(page))) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) {
    std::ostringstream where;
    where << endpoint;
    throw std::runtime_error("metrics_listen " + where.str() + ": " + ec.message());
  }
  accept_next();
}

HttpServer::~HttpServer() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::accept_next() {
  acceptor_.async_accept(boost::asio::make_strand(io_), [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // EMFILE and friends: neither die nor spin.
      static log::Limited accept_warning(std::chrono::seconds(5));
      accept_warning.warn([&](log::Line& line) { line << "metrics listener: accept failed: " << ec.message(); });
      retry_timer_.expires_after(accept_backoff);
      retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) accept_next();
      });
      return;
    }
    accept_next();
    if (clients_->fetch_add(1, std::memory_order_relaxed) >= max_clients) {
      clients_->fetch_sub(1, std::memory_order_relaxed);
      return;  // the socket closes here
    }
    std::make_shared<Client>(std::move(socket), page_, clients_)->start();
  });
}

}  // namespace dvpn::metrics
