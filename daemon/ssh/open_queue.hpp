#pragma once
// A session's channel opens, strictly one at a time (libssh2 1.10 keeps one
// open state per session), each with a deadline. No I/O: the session runs
// the head open and asks the queue what a deadline means.
//
// An open past its deadline behind the head just ends. The head itself
// cannot be cancelled (libssh2 is mid-open for it; it must run to its end),
// so it is abandoned: its client is answered at once, and the opens behind
// it, which still have time, are handed back (`stalled`) so another session
// can serve them. A head that is merely slow (a destination whose listen
// backlog is full: the far end's SYN is retried after 1 s, 3 s, ...) hands
// back the opens behind it as soon as it is `slow_after` old, and keeps
// its own time. A head that turns slow with nothing behind it is reported
// once all the same: the pool holds direct opens back for a session with
// one in flight, and must stop waiting for this one.
//
// Item: a pointer-like type whose target has deadline(), abandoned().
#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace dvpn::ssh {

template <typename Item>
class OpenQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  const Item& head() const { return items_.front(); }
  // Since when libssh2 has been opening the head's channel.
  TimePoint head_since() const noexcept { return head_since_; }
  void push(Item item, TimePoint now) {
    if (items_.empty()) {
      head_since_ = now;
      slow_told_ = false;
    }
    items_.push_back(std::move(item));
  }
  Item pop_head(TimePoint now) {
    Item item = std::move(items_.front());
    items_.pop_front();
    head_since_ = now;
    slow_told_ = false;
    return item;
  }
  std::deque<Item> take_all() { return std::exchange(items_, {}); }

  // Its head open outlived its deadline and still runs: no open may join.
  bool stalled() const { return !items_.empty() && items_.front()->abandoned(); }

  // When expire() next has something to do: the next live open's deadline,
  // or the head turning slow (once for a head alone; with opens behind it, again).
  std::optional<TimePoint> next_check(std::chrono::milliseconds slow_after) const {
    std::optional<TimePoint> next;
    auto it = std::find_if(items_.begin(), items_.end(), [](const Item& i) { return !i->abandoned(); });
    if (it != items_.end()) next = (*it)->deadline();
    if (slow_check_due()) {
      const TimePoint slow = head_since_ + slow_after;
      if (!next || slow < *next) next = slow;
    }
    return next;
  }

  struct Expiry {
    bool abandon_head = false;  // the caller abandons head(); it stays queued until libssh2 is done
    bool head_slow = false;     // the head turned slow: opens behind it handed back (it keeps its time)
    std::vector<Item> expired;  // past their deadline behind the head: end them
    std::vector<Item> handed_back;  // behind a stuck or slow head with time left, in queue order
  };
  // Sorts the queue out at `now`; the caller acts on the result.
  Expiry expire(TimePoint now, std::chrono::milliseconds slow_after) {
    Expiry out;
    for (auto it = items_.begin(); it != items_.end();) {
      if ((*it)->abandoned() || (*it)->deadline() > now) {
        ++it;
      } else if (it == items_.begin()) {
        out.abandon_head = true;
        ++it;
      } else {
        out.expired.push_back(std::move(*it));
        it = items_.erase(it);
      }
    }
    const bool head_stuck = !items_.empty() && (out.abandon_head || items_.front()->abandoned());
    out.head_slow = !head_stuck && slow_check_due() && now - head_since_ >= slow_after;
    if (out.head_slow) slow_told_ = true;
    if ((head_stuck || out.head_slow) && items_.size() > 1) {
      out.handed_back.assign(std::make_move_iterator(std::next(items_.begin())), std::make_move_iterator(items_.end()));
      items_.erase(std::next(items_.begin()), items_.end());
    }
    return out;
  }

 private:
  bool slow_check_due() const {
    return !items_.empty() && !items_.front()->abandoned() && (items_.size() > 1 || !slow_told_);
  }

  std::deque<Item> items_;
  TimePoint head_since_{};
  bool slow_told_ = false;  // expire() has reported this head slow
};

}  // namespace dvpn::ssh
