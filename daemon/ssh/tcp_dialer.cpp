#include "tcp_dialer.hpp"

#include <netdb.h>

#include <boost/asio/post.hpp>

#include <sstream>

#include "log.hpp"
#include "net/name_lookup.hpp"

namespace dvpn::ssh {

TcpDialer::TcpDialer(Strand& strand, SshEndpoint key, std::string log_prefix, TimePoint deadline, Done done)
    : strand_(strand),
      key_(std::move(key)),
      log_prefix_(std::move(log_prefix)),
      deadline_(deadline),
      done_(std::move(done)),
      socket_(strand),
      attempt_timer_(strand) {}

void TcpDialer::start() {
  stage_ = Stage::resolving;
  boost::system::error_code not_literal;
  const auto address = boost::asio::ip::make_address(key_.host, not_literal);
  if (!not_literal) {
    boost::asio::post(strand_, [self = shared_from_this(), address] {
      self->on_resolved(0, {tcp::endpoint(address, self->key_.port)});
    });
    return;
  }
  DVPN_LOG(debug) << log_prefix_ << ": resolving " << key_.host;
  // getaddrinfo cannot be cancelled: a late result finds no one.
  auto done = [weak = weak_from_this()](int gai_error, std::vector<tcp::endpoint> endpoints) {
    if (auto self = weak.lock()) self->on_resolved(gai_error, std::move(endpoints));
  };
  if (auto why_not = net::lookup_async(key_.host, key_.port, strand_, std::move(done)); !why_not.empty()) {
    boost::asio::post(strand_, [self = shared_from_this(), why_not] {
      self->finish(std::nullopt, "cannot resolve " + self->key_.host + ": " + why_not);
    });
  }
}

void TcpDialer::cancel() {
  stage_ = Stage::done;
  done_ = nullptr;
  attempt_timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void TcpDialer::finish(std::optional<tcp::socket> socket, const std::string& error) {
  if (stage_ == Stage::done) return;
  stage_ = Stage::done;
  attempt_timer_.cancel();
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(socket), error);
}

void TcpDialer::on_resolved(int gai_error, std::vector<tcp::endpoint> endpoints) {
  if (stage_ != Stage::resolving) return;
  if (gai_error != 0 || endpoints.empty()) {
    finish(std::nullopt,
           "cannot resolve " + key_.host + ": " + (gai_error ? ::gai_strerror(gai_error) : "no IPv4 or IPv6 address"));
    return;
  }
  stage_ = Stage::connecting;
  endpoints_ = std::move(endpoints);
  next_ = 0;
  connect_next();
}

void TcpDialer::connect_next() {
  if (next_ >= endpoints_.size()) {
    finish(std::nullopt, "cannot connect to " + key_.to_string() + ": " + errors_);
    return;
  }
  const tcp::endpoint endpoint = endpoints_[next_++];
  const unsigned attempt = ++attempt_;
  attempt_timed_out_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
  socket_.open(endpoint.protocol(), ec);
  if (ec) {
    on_connected(ec, attempt);
    return;
  }
  const std::size_t left = endpoints_.size() - next_ + 1;  // this one included
  auto self = shared_from_this();
  if (left > 1) {
    const auto share = std::chrono::duration_cast<std::chrono::milliseconds>(
        (deadline_ - boost::asio::steady_timer::clock_type::now()) / left);
    DVPN_LOG(debug) << log_prefix_ << ": connecting to " << endpoint << " (address " << next_ << " of "
                    << endpoints_.size() << ", for up to " << share.count() << "ms)";
    attempt_timer_.expires_after(share);
    attempt_timer_.async_wait([self, attempt](const boost::system::error_code& ec) {
      if (ec || self->stage_ != Stage::connecting || attempt != self->attempt_) return;
      self->attempt_timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // the connect completes with operation_aborted
    });
  } else if (endpoints_.size() > 1) {
    DVPN_LOG(debug) << log_prefix_ << ": connecting to " << endpoint << " (address " << next_ << " of "
                    << endpoints_.size() << ")";
  }
  socket_.async_connect(endpoint, [self, attempt](const boost::system::error_code& ec) { self->on_connected(ec, attempt); });
}

void TcpDialer::on_connected(const boost::system::error_code& ec, unsigned attempt) {
  if (stage_ != Stage::connecting || attempt != attempt_) return;
  attempt_timer_.cancel();
  if (!ec && !attempt_timed_out_) {
    finish(std::move(socket_), "");
    return;
  }
  const std::string why = attempt_timed_out_ ? "no answer within its share of connect_timeout" : ec.message();
  if (endpoints_.size() == 1) {
    errors_ = why;
  } else {
    std::ostringstream text;
    text << endpoints_[next_ - 1] << ": " << why;
    errors_ += (errors_.empty() ? "" : "; ") + text.str();
    if (next_ < endpoints_.size()) {
      DVPN_LOG(info) << log_prefix_ << ": " << text.str() << "; trying the next address";
    }
  }
  connect_next();
}

}  // namespace dvpn::ssh
