// Receive windows of new channels, and of a relay's carrier channel (ssh/settings.hpp).
#include <doctest/doctest.h>

#include "ssh/channel_host.hpp"
#include "ssh/settings.hpp"

using dvpn::ssh::carrier_window;
using dvpn::ssh::channel_window;
using dvpn::ssh::session_window_budget;
using dvpn::ssh::SessionSettings;

namespace {
constexpr std::uint32_t KiB = 1024, MiB = 1024 * KiB;

SessionSettings with_window(std::uint32_t window_size) {
  SessionSettings s;
  s.window_size = window_size;
  return s;
}
}  // namespace

TEST_CASE("a new channel gets 4 MiB divided by its session's channels, within 256 KiB and window_size") {
  const auto s = with_window(1 * MiB);
  CHECK(channel_window(s, 1) == 1 * MiB);
  CHECK(channel_window(s, 4) == 1 * MiB);
  CHECK(channel_window(s, 8) == 512 * KiB);
  CHECK(channel_window(s, 16) == 256 * KiB);
  CHECK(channel_window(s, 100) == 256 * KiB);
  CHECK(channel_window(with_window(64 * KiB), 1) == 64 * KiB);
  CHECK(channel_window(with_window(64 * KiB), 100) == 64 * KiB);
  CHECK(channel_window(with_window(16 * MiB), 1) == 4 * MiB);
}

TEST_CASE("a carrier's window holds everything the session it carries may have in flight") {
  // Up to the count where every channel is at the 256 KiB floor, a session's
  // channels together stay within its budget: the carrier must not be the
  // smaller window, whatever window_size is.
  for (std::uint32_t window_size : {32 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB}) {
    const auto s = with_window(window_size);
    for (std::uint32_t channels = 1; channels <= 16; ++channels) {
      CAPTURE(window_size);
      CAPTURE(channels);
      CHECK(std::uint64_t{channels} * channel_window(s, channels) <= session_window_budget);
    }
  }
  // The carried session's packets on top: per 32 KiB of data at most 4 (length)
  // + 1 (padding length) + 255 (padding) + 64 (MAC) + 9 (message, channel, length) bytes.
  constexpr std::uint64_t per_packet = 4 + 1 + 255 + 64 + 9;
  CHECK(carrier_window >= session_window_budget + session_window_budget / dvpn::ssh::channel_max_packet * per_packet);
  // The default channel window would have been a quarter of that (the bench's finding).
  CHECK(carrier_window >= 4 * channel_window(SessionSettings{}, 1));
}
