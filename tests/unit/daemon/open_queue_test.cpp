// A session's channel opens: one at a time, deadlines, and the hand-back of
// the opens stuck behind a head that cannot be cancelled.
#include "ssh/open_queue.hpp"

#include <doctest/doctest.h>

#include <memory>

namespace {

using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

struct FakeOpen {
  int id;
  Clock::time_point due;
  bool gave_up = false;
  Clock::time_point deadline() const { return due; }
  bool abandoned() const { return gave_up; }
};
using Item = std::shared_ptr<FakeOpen>;
// The queue with the head started at t0 and slowness far away unless a test says so.
struct Queue : dvpn::ssh::OpenQueue<Item> {
  void push_at0(Item item) { push(std::move(item), t0_()); }
  Expiry expire_slow(Clock::time_point now, ms slow_after = ms(60000)) { return expire(now, slow_after); }
  static Clock::time_point t0_();
};

const Clock::time_point t0 = Clock::now();
Clock::time_point Queue::t0_() { return t0; }

Item open_due(int id, int ms_from_t0) { return std::make_shared<FakeOpen>(FakeOpen{id, t0 + ms(ms_from_t0)}); }

std::vector<int> ids(const std::vector<Item>& items) {
  std::vector<int> out;
  for (const auto& i : items) out.push_back(i->id);
  return out;
}

}  // namespace

TEST_CASE("nothing expires before its deadline") {
  Queue q;
  q.push_at0(open_due(1, 100));
  q.push_at0(open_due(2, 200));
  auto expiry = q.expire_slow(t0 + ms(50));
  CHECK_FALSE(expiry.abandon_head);
  CHECK(expiry.expired.empty());
  CHECK(expiry.handed_back.empty());
  CHECK(q.size() == 2);
  CHECK(q.next_check(ms(60000)) == t0 + ms(100));
  CHECK_FALSE(q.stalled());
}

TEST_CASE("an expired head is abandoned, not removed, and the opens behind it go back") {
  Queue q;
  q.push_at0(open_due(1, 100));
  q.push_at0(open_due(2, 5000));
  q.push_at0(open_due(3, 6000));
  auto expiry = q.expire_slow(t0 + ms(150));
  CHECK(expiry.abandon_head);
  CHECK(expiry.expired.empty());
  CHECK(ids(expiry.handed_back) == std::vector<int>{2, 3});  // in queue order
  REQUIRE(q.size() == 1);
  CHECK(q.head()->id == 1);
  q.head()->gave_up = true;  // what the session does
  CHECK(q.stalled());
  CHECK_FALSE(q.next_check(ms(60000)));  // nothing live left to time
}

TEST_CASE("opens behind the head that are past their own deadline just end") {
  Queue q;
  q.push_at0(open_due(1, 1000));
  q.push_at0(open_due(2, 100));
  q.push_at0(open_due(3, 2000));
  auto expiry = q.expire_slow(t0 + ms(150));
  CHECK_FALSE(expiry.abandon_head);
  CHECK(ids(expiry.expired) == std::vector<int>{2});
  CHECK(expiry.handed_back.empty());  // the head is still within its time
  CHECK(q.size() == 2);
}

TEST_CASE("a head abandoned earlier keeps handing back what joins it") {
  Queue q;
  auto head = open_due(1, 100);
  head->gave_up = true;
  q.push_at0(head);
  q.push_at0(open_due(2, 9000));
  auto expiry = q.expire_slow(t0 + ms(200));
  CHECK_FALSE(expiry.abandon_head);  // already abandoned
  CHECK(ids(expiry.handed_back) == std::vector<int>{2});
  CHECK(q.stalled());
}

TEST_CASE("the head finishing ends the stall; take_all empties the queue for a dying session") {
  Queue q;
  auto head = open_due(1, 100);
  head->gave_up = true;
  q.push_at0(head);
  CHECK(q.stalled());
  CHECK(q.pop_head(t0)->id == 1);
  CHECK_FALSE(q.stalled());
  q.push_at0(open_due(2, 100));
  q.push_at0(open_due(3, 100));
  auto all = q.take_all();
  CHECK(all.size() == 2);
  CHECK(q.empty());
}

TEST_CASE("a slow head hands back the opens behind it early and keeps its own time") {
  Queue q;
  q.push_at0(open_due(1, 5000));
  q.push_at0(open_due(2, 5000));
  q.push_at0(open_due(3, 5000));
  CHECK(q.next_check(ms(300)) == t0 + ms(300));  // the slowness check comes before any deadline
  auto early = q.expire_slow(t0 + ms(200), ms(300));
  CHECK_FALSE(early.head_slow);
  CHECK(early.handed_back.empty());
  auto slow = q.expire_slow(t0 + ms(300), ms(300));
  CHECK(slow.head_slow);
  CHECK_FALSE(slow.abandon_head);
  CHECK(ids(slow.handed_back) == std::vector<int>{2, 3});
  REQUIRE(q.size() == 1);
  CHECK_FALSE(q.stalled());  // not abandoned: it may still open
  CHECK(q.next_check(ms(300)) == t0 + ms(5000));  // alone, only its deadline is left
}

TEST_CASE("a head alone turns slow once (the pool stops holding opens for it); the next head may again") {
  Queue q;
  q.push_at0(open_due(1, 5000));
  CHECK(q.next_check(ms(300)) == t0 + ms(300));
  auto slow = q.expire_slow(t0 + ms(300), ms(300));
  CHECK(slow.head_slow);
  CHECK(slow.handed_back.empty());
  CHECK(q.next_check(ms(300)) == t0 + ms(5000));  // told once: only its deadline is left
  CHECK_FALSE(q.expire_slow(t0 + ms(400), ms(300)).head_slow);
  q.push_at0(open_due(2, 5000));  // one behind it: handed back at once
  CHECK(q.next_check(ms(300)) == t0 + ms(300));
  CHECK(ids(q.expire_slow(t0 + ms(450), ms(300)).handed_back) == std::vector<int>{2});
  q.pop_head(t0 + ms(500));
  q.push_at0(open_due(3, 5000));  // pushed onto an empty queue: a new head, timed from t0
  CHECK(q.expire_slow(t0 + ms(600), ms(300)).head_slow);
}
