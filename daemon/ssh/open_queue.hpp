#pragma once
// A session's channel opens, strictly one at a time (libssh2 1.10 keeps one
// open state per session), each with a deadline. No I/O: the session runs
// the head open and asks the queue what a deadline means.
//
// An open past its deadline behind the head just ends. The head itself
// cannot be cancelled (libssh2 is mid-open for it; it must run to its end),
// so it is abandoned: its client is answered at once, and the opens behind
// it, which still have time, are handed back (`stalled`) so another session
// can serve them.
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
  void push(Item item) { items_.push_back(std::move(item)); }
  Item pop_head() {
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  std::deque<Item> take_all() { return std::exchange(items_, {}); }

  // Its head open outlived its deadline and still runs: no open may join.
  bool stalled() const { return !items_.empty() && items_.front()->abandoned(); }

  // When the next live open's deadline passes (none when all are abandoned).
  std::optional<TimePoint> next_deadline() const {
    auto it = std::find_if(items_.begin(), items_.end(), [](const Item& i) { return !i->abandoned(); });
    if (it == items_.end()) return std::nullopt;
    return (*it)->deadline();
  }

  struct Expiry {
    bool abandon_head = false;  // the caller abandons head(); it stays queued until libssh2 is done
    std::vector<Item> expired;  // past their deadline behind the head: end them
    std::vector<Item> handed_back;  // behind a stuck head with time left, in queue order
  };
  // Sorts the queue out at `now`; the caller acts on the result.
  Expiry expire(TimePoint now) {
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
    if (head_stuck && items_.size() > 1) {
      out.handed_back.assign(std::make_move_iterator(std::next(items_.begin())), std::make_move_iterator(items_.end()));
      items_.erase(std::next(items_.begin()), items_.end());
    }
    return out;
  }

 private:
  std::deque<Item> items_;
};

}  // namespace dvpn::ssh
