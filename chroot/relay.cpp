#include "relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

namespace dvpn::chroot {
namespace {

// Big enough that one read and one write move what sshd hands over at once
// (busybox nc's 1 KiB copy loop cost gwB 19 s of CPU per GB).
constexpr std::size_t buffer_size = 128 * 1024;

int complain(const std::string& what) {
  std::fprintf(stderr, "dvpn-gate: %s: %s\n", what.c_str(), std::strerror(errno));
  return 1;
}

bool is_socket(int fd) {
  struct stat st{};
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// One direction of the copy: reads `from` into a buffer, writes it to `to`,
// and once `from` ended and the buffer is empty, ends `to`.
class Direction {
 public:
  Direction(int from, int to, std::function<void(int)> end_to)
      : from_(from), to_(to), end_to_(std::move(end_to)) {}

  bool done() const { return ended_; }
  bool wants_read() const { return !ended_ && !source_eof_ && begin_ == end_; }
  bool wants_write() const { return !ended_ && begin_ != end_; }

  // Moves what it can without blocking; false on a hard error (errno set).
  bool step() {
    if (wants_read()) {
      const ssize_t n = read(from_, buf_.get(), buffer_size);
      if (n > 0) {
        begin_ = 0;
        end_ = static_cast<std::size_t>(n);
      } else if (n == 0) {
        source_eof_ = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return false;
      }
    }
    while (begin_ != end_) {
      const ssize_t n = write(to_, buf_.get() + begin_, end_ - begin_);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return false;
      }
      begin_ += static_cast<std::size_t>(n);
    }
    if (source_eof_ && begin_ == end_ && !ended_) {
      end_to_(to_);
      ended_ = true;
    }
    return true;
  }

  int from() const { return from_; }
  int to() const { return to_; }

 private:
  int from_;
  int to_;
  std::function<void(int)> end_to_;
  std::unique_ptr<char[]> buf_ = std::make_unique<char[]>(buffer_size);
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool source_eof_ = false;
  bool ended_ = false;
};

// Connects with a deadline: a nonblocking connect, then poll for at most
// `timeout` (a destination whose SYNs are dropped would otherwise hold the
// channel for the kernel's ~127 s of SYN retries). Returns the connected,
// nonblocking socket, or -1 with errno set (ETIMEDOUT when time ran out).
int connect_to(const Destination& to, std::chrono::milliseconds timeout) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (to.host.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(to.port);
    std::memcpy(&sin->sin_addr, to.host.bytes.data() + 12, 4);
    length = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(to.port);
    std::memcpy(&sin6->sin6_addr, to.host.bytes.data(), 16);
    length = sizeof *sin6;
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  auto give_up = [fd](int error) {
    close(fd);
    errno = error;
    return -1;
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    if (errno != EINPROGRESS) return give_up(errno);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return give_up(ETIMEDOUT);
      pollfd pfd{fd, POLLOUT, 0};
      const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return give_up(errno);
      if (ready == 0) return give_up(ETIMEDOUT);
      break;
    }
    int error = 0;
    socklen_t error_length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0) return give_up(errno);
    if (error != 0) return give_up(error);
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // the far client's writes go as they come
  return fd;
}

// The gateway closed the channel while the destination was still sending:
// its client reset or gave up. sshd then closes its end of our output (with
// pipes, as Debian's sshd uses, our stdout gets POLLERR; with a socketpair
// the socket is shut both ways and POLLHUP shows on stdin and stdout alike),
// where a client's FIN (the channel's EOF) only ends our input. With pipes a
// plain EOF is POLLHUP on stdin, so stdin counts only when it is a socket.
bool channel_closed(const pollfd& fd, int in, int out, const Direction& down) {
  const bool channel_side = fd.fd == out || (fd.fd == in && is_socket(in));
  return channel_side && !down.done() && (fd.revents & (POLLHUP | POLLERR)) != 0;
}

// A reset client reaches sshd as the channel's EOF and CLOSE back to back
// (libssh2 sends an EOF before every CLOSE), and sshd passes them on as two
// closes microseconds apart: at our input's EOF, give the second one a moment
// to show on stdout before taking the EOF for a FIN. The price is that much
// delay on a client's genuine half-close while the destination still sends.
// 2 ms missed about 1 in 3,000 resets on a loaded box (sshd preempted between
// the two); 20 ms missed none of 6,000 there (bench/soak, RESULTS.md).
constexpr int close_follows_eof_ms = 20;

bool channel_closed_soon(int in, int out, const Direction& down) {
  pollfd fd{out, 0, 0};
  return poll(&fd, 1, close_follows_eof_ms) == 1 && channel_closed(fd, in, out, down);
}

// Passes the reset on: a close with SO_LINGER 0 sends an RST, so the
// destination does not take a truncated upload for a complete one.
int abort_destination(int sock) {
  const linger abortive{1, 0};
  setsockopt(sock, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  close(sock);
  return 1;
}

}  // namespace

int relay(const Destination& to, int in, int out, std::chrono::milliseconds connect_timeout) {
  const int sock = connect_to(to, connect_timeout);
  if (sock < 0 && errno == ETIMEDOUT) {
    const auto ms = connect_timeout.count();
    std::fprintf(stderr, "dvpn-gate: connect to %s port %s: no answer within %lld %s (--connect-timeout)\n",
                 to.host_text().c_str(), to.port_text().c_str(),
                 static_cast<long long>(ms % 1000 == 0 ? ms / 1000 : ms), ms % 1000 == 0 ? "s" : "ms");
    return 1;
  }
  if (sock < 0) return complain("connect to " + to.host_text() + " port " + to.port_text());
  if (!set_nonblocking(sock) || !set_nonblocking(in) || !set_nonblocking(out)) return complain("O_NONBLOCK");

  // sshd hands the command one socketpair as both stdin and stdout (or pipes,
  // if built with USE_PIPES): end only our sending half, or stdin goes too.
  // sshd holds the channel's EOF back while stderr is open ("delay EOF if EFD
  // still in use", channels.c), so stderr closes with it: what could still go
  // wrong after the destination's EOF no longer matters to the gateway.
  Direction down(sock, out, [](int fd) {
    if (is_socket(fd))
      shutdown(fd, SHUT_WR);
    else
      close(fd);
    close(STDERR_FILENO);
  });
  bool client_reset = false;
  Direction up(in, sock, [&](int fd) {
    client_reset = channel_closed_soon(in, out, down);
    if (!client_reset) shutdown(fd, SHUT_WR);
  });
  while (!up.done() || !down.done()) {
    pollfd fds[5];
    Direction* owner[5];
    nfds_t n = 0;
    for (Direction* d : {&up, &down}) {
      if (d->wants_read()) owner[n] = d, fds[n++] = {d->from(), POLLIN, 0};
      if (d->wants_write()) owner[n] = d, fds[n++] = {d->to(), POLLOUT, 0};
    }
    // sshd closes our stdout when the gateway closed the channel: stop then,
    // even while waiting on the destination, so no orphan holds a session slot.
    const bool watch_out = !down.done() && !down.wants_write();
    if (watch_out) owner[n] = nullptr, fds[n++] = {out, 0, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return complain("poll");
    }
    bool up_ready = false, down_ready = false;
    for (nfds_t i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (!owner[i] || channel_closed(fds[i], in, out, down)) return abort_destination(sock);
      (owner[i] == &up ? up_ready : down_ready) = true;
    }
    if (up_ready && !up.step()) return complain("to " + to.host_text() + " port " + to.port_text());
    if (client_reset) return abort_destination(sock);
    if (down_ready && !down.step()) return complain("from " + to.host_text() + " port " + to.port_text());
  }
  return 0;
}

}  // namespace dvpn::chroot
