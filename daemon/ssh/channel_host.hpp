#pragma once
// What a channel (Tunnel) needs from the session it runs on, and no more.
#include <libssh2.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "site.hpp"
#include "window_plan.hpp"

namespace dvpn::ssh {

class Tunnel;

// Largest packet we accept on a channel: above 40000 libssh2 1.10 fails (doc/ssh-notes.md §2).
inline constexpr std::uint32_t channel_max_packet = 32768;

// Call before every libssh2_channel_process_startup (exec). libssh2 1.10
// waits for its reply (CHANNEL_SUCCESS/FAILURE) by reading packets, and if it
// reads one of those types for ANOTHER channel it gives up with -1 and the
// channel can never be used (_libssh2_packet_requirev). With several execs
// in flight on a session (spare channels, the prelude) that would happen; a
// zero-length read first decodes everything buffered into libssh2's queue,
// where each exec finds its own reply, and within one handler no new input
// arrives for the wait to read (doc/ssh-notes.md).
void drain_before_request(LIBSSH2_CHANNEL* channel, std::vector<char>& scratch);

class ChannelHost {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  virtual ~ChannelHost() = default;

  virtual Strand& strand() noexcept = 0;
  virtual LIBSSH2_SESSION* handle() noexcept = 0;
  // Shared read buffer: the relay moves bytes through it without keeping any per idle connection.
  virtual std::vector<char>& scratch() noexcept = 0;
  // True while the session's output is above its high-water mark: stop producing.
  virtual bool congested() const noexcept = 0;
  // The most one channel's receive window grows to, and the budget all
  // windows grow from (window_plan.hpp).
  virtual std::uint32_t window_max() const noexcept = 0;
  virtual const std::shared_ptr<window::Budget>& window_budget() const noexcept = 0;
  // The SSH connection's smoothed round-trip time; 0 when not known (a
  // session carried through a relay has no TCP connection of its own).
  virtual std::chrono::microseconds path_rtt() const noexcept = 0;
  // The tunnel has work (its client became readable or writable): run its step.
  virtual void wake(const std::shared_ptr<Tunnel>& tunnel) = 0;
  // Some libssh2 calls (channel open, exec, close) return as soon as the one
  // reply they wait for is decoded, leaving later packets undecoded inside
  // libssh2 where the input counters cannot see them; the caller says so,
  // and the session decodes the rest and gives every channel another look.
  virtual void note_partial_read() noexcept = 0;
  // A libssh2 error that broke the session.
  virtual void fail(const std::string& why) = 0;
  // The channel's CLOSE exchange finished: its slot on the far end is free.
  virtual void channel_released(hostsdb::Mode mode, std::uint64_t up, std::uint64_t down) = 0;
  // Held by the tunnel's pending socket operations.
  virtual std::shared_ptr<ChannelHost> keep_alive() = 0;
};

}  // namespace dvpn::ssh
