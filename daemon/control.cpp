#include "control.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

#include "log.hpp"

namespace dvpn {
namespace {
using local = boost::asio::local::stream_protocol;
constexpr std::size_t max_request = 64;
// Like the main listeners: a failed accept (EMFILE) leaves the connection
// queued, so retrying at once would spin.
constexpr auto accept_backoff = std::chrono::milliseconds(100);
}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, std::function<StatusSnapshot()> snapshot,
                             std::function<std::string()> metrics)
    : path_(std::move(path)),
      snapshot_(std::move(snapshot)),
      metrics_(std::move(metrics)),
      acceptor_(io),
      retry_timer_(io) {
  std::error_code fs_ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), fs_ec);
  ::unlink(path_.c_str());
  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  // Created without group/other bits, so there is no moment anyone else could connect.
  mode_t old_mask = ::umask(077);
  if (!ec) acceptor_.bind(local::endpoint(path_), ec);
  ::umask(old_mask);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) throw std::runtime_error("control socket " + path_ + ": " + ec.message());
  accept_next();
}

ControlServer::~ControlServer() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ::unlink(path_.c_str());
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      static log::Limited accept_warning(std::chrono::seconds(5));
      accept_warning.warn([&](log::Line& line) {
        line << "control socket: accept failed: " << ec.message() << "; pausing its accepts";
      });
      retry_timer_.expires_after(accept_backoff);
      retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) accept_next();
      });
      return;
    }
    accept_next();
    auto client = std::make_shared<local::socket>(std::move(socket));
    auto request = std::make_shared<boost::asio::streambuf>(max_request);
    boost::asio::async_read_until(
        *client, *request, '\n', [this, client, request](const boost::system::error_code& ec, std::size_t) {
          if (ec) return;
          std::istream in(request.get());
          std::string line;
          std::getline(in, line);
          auto reply = std::make_shared<std::string>();
          if (line == "status") *reply = status_text(snapshot_());
          else if (line == "status json") *reply = status_json(snapshot_());
          else if (line == "metrics") *reply = metrics_();
          else *reply = "error: unknown request \"" + line + "\"; expected \"status\", \"status json\" or \"metrics\"\n";
          boost::asio::async_write(*client, boost::asio::buffer(*reply),
                                   [client, reply](const boost::system::error_code&, std::size_t) {});
        });
  });
}

namespace {

// Sends one request line and prints the whole reply.
int ask_daemon(const std::string& socket_path, const std::string& request, const char* what) {
  boost::asio::io_context io;
  local::socket socket(io);
  boost::system::error_code ec;
  socket.connect(local::endpoint(socket_path), ec);
  if (ec) {
    std::cerr << "dvpnd: cannot reach the daemon at " << socket_path << ": " << ec.message()
              << " (is dvpnd running, and are you root?)\n";
    return 1;
  }
  boost::asio::write(socket, boost::asio::buffer(request + "\n"), ec);
  boost::asio::streambuf reply;
  boost::asio::read(socket, reply, ec);
  if (ec && ec != boost::asio::error::eof) {
    std::cerr << "dvpnd: reading " << what << " from " << socket_path << ": " << ec.message() << "\n";
    return 1;
  }
  std::cout << &reply;
  return 0;
}

}  // namespace

int print_status(const std::string& socket_path, bool json) {
  return ask_daemon(socket_path, json ? "status json" : "status", "status");
}

int print_metrics(const std::string& socket_path) { return ask_daemon(socket_path, "metrics", "metrics"); }

}  // namespace dvpn
