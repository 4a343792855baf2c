// dvpn-delayline's packet ring (tests/wan/packet_ring.h): FIFO order and
// byte-exact contents through many wrap-arounds, checked against a deque,
// and room is refused only when the ring is really short of it.
#include "packet_ring.h"

#include <doctest/doctest.h>

#include <cstring>
#include <deque>
#include <random>
#include <utility>

namespace {

// Fills a packet with bytes derived from its sequence number.
void stamp(uint8_t* p, uint32_t len, uint32_t seq) {
  for (uint32_t i = 0; i < len; ++i) p[i] = uint8_t(seq * 31 + i);
}
bool stamped(const uint8_t* p, uint32_t len, uint32_t seq) {
  for (uint32_t i = 0; i < len; ++i)
    if (p[i] != uint8_t(seq * 31 + i)) return false;
  return true;
}

}  // namespace

TEST_CASE("packet ring: FIFO, contents intact across wrap-arounds") {
  constexpr size_t kMax = 2000;
  PacketRing ring(64 * 1024, kMax);
  std::deque<std::pair<uint32_t, uint32_t>> model;  // (seq, len)
  std::mt19937 rng(7);
  uint32_t seq = 0;
  size_t wraps_seen = 0, refused = 0;
  uint8_t* last = nullptr;
  for (int step = 0; step < 200000; ++step) {
    bool push = rng() % 100 < 55;
    if (push) {
      uint8_t* p = ring.reserve();
      if (!p) {
        ++refused;
        REQUIRE(!model.empty());  // an empty ring always has room
        continue;
      }
      if (last && p < last) ++wraps_seen;
      last = p;
      uint32_t len = rng() % 3 == 0 ? 40 : 1 + rng() % kMax;
      stamp(p, len, seq);
      ring.commit(len, int64_t(seq));
      model.emplace_back(seq++, len);
    } else if (!model.empty()) {
      PacketRing::Rec& r = ring.front();
      REQUIRE(r.due_ns == int64_t(model.front().first));
      REQUIRE(r.len == model.front().second);
      REQUIRE(stamped(r.data(), r.len, model.front().first));
      ring.pop();
      model.pop_front();
    }
    REQUIRE(ring.count() == model.size());
  }
  CHECK(wraps_seen > 100);
  CHECK(refused > 0);
}

TEST_CASE("packet ring: an empty ring always has room; a full one refuses") {
  PacketRing ring(8 * 1024, 1000);
  REQUIRE(ring.empty());
  int held = 0;
  while (uint8_t* p = ring.reserve()) {
    stamp(p, 1000, uint32_t(held));
    ring.commit(1000, held++);
    REQUIRE(held < 100);
  }
  CHECK(held >= 6);  // 8 KiB of ~1 KiB records, less the space kept free
  while (!ring.empty()) ring.pop();
  CHECK(ring.reserve() != nullptr);
}
