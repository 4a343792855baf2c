// packet_ring.h — dvpn-delayline's FIFO of packets waiting for their due
// time: variable-sized records in one byte buffer, so a direction can hold
// both 64 KiB GSO packets and 40-byte ACKs without a slot per maximum size.
// Single-threaded (each direction owns one). A packet is read straight into
// the buffer (reserve, then commit or abandon), and never copied again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

class PacketRing {
 public:
  struct Rec {
    int64_t due_ns;
    uint32_t len;
    uint32_t pad;
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
  };

  // capacity: bytes of records; max_packet: the largest packet reserve() must fit.
  PacketRing(size_t capacity, size_t max_packet)
      : cap_(capacity), max_rec_(size(max_packet)),
        buf_(new uint8_t[capacity]) {}  // not value-initialised: pages are touched only when used

  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }

  // Room for a packet of up to max_packet bytes, or nullptr when full.
  uint8_t* reserve() {
    if (count_ == 0) head_ = tail_ = 0, wrapped_ = false;
    if (!wrapped_) {                       // records in [head, tail)
      if (cap_ - tail_ >= max_rec_) return at(tail_)->data();
      if (head_ < max_rec_ + 1) return nullptr;
      wrap_at_ = tail_;                    // records resume at 0 after wrap_at
      tail_ = 0;
      wrapped_ = true;
    }
    // records in [head, wrap_at) and [0, tail)
    return head_ - tail_ > max_rec_ ? at(tail_)->data() : nullptr;
  }

  // The packet reserve() returned is `len` bytes long and due at `due_ns`.
  void commit(uint32_t len, int64_t due_ns) {
    Rec* r = at(tail_);
    r->due_ns = due_ns;
    r->len = len;
    tail_ += size(len);
    ++count_;
  }

  Rec& front() { return *at(head_); }

  void pop() {
    head_ += size(front().len);
    --count_;
    if (wrapped_ && head_ == wrap_at_) head_ = 0, wrapped_ = false;
  }

 private:
  static size_t size(size_t len) { return (sizeof(Rec) + len + 7) & ~size_t(7); }
  Rec* at(size_t off) { return reinterpret_cast<Rec*>(buf_.get() + off); }

  const size_t cap_, max_rec_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t head_ = 0, tail_ = 0, wrap_at_ = 0, count_ = 0;
  bool wrapped_ = false;
};
