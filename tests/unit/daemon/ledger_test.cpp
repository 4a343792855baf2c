// The pool's bookkeeping, one transition at a time: when a channel counts
// against a session, where the next connection goes, and when another
// handshake is worth it.
#include "pool/ledger.hpp"

#include <doctest/doctest.h>

using dvpn::pool::Clock;
using dvpn::pool::Duration;
using dvpn::pool::Ledger;
using dvpn::pool::Limits;
using dvpn::pool::Mode;
using dvpn::pool::OpenOutcome;

namespace {

Limits small_limits() {
  Limits limits;
  limits.exec_channels_per_session = 2;
  limits.direct_channels_per_session = 3;
  limits.sessions = 2;
  limits.spread_sessions = 1;
  return limits;
}

// A ledger with one ready session, id 1.
Ledger with_ready_session(Limits limits = small_limits()) {
  Ledger ledger(limits);
  ledger.session_started(1);
  ledger.session_ready(1);
  return ledger;
}

// with_ready_session, allowing `sessions` sessions.
Ledger ready_allowing(unsigned sessions) {
  Limits limits = small_limits();
  limits.sessions = sessions;
  return with_ready_session(limits);
}

}  // namespace

TEST_CASE("a session takes channels only once ready, and one handshake runs at a time") {
  Ledger ledger(small_limits());
  const auto now = Clock::now();
  CHECK(ledger.want_session(1, now));
  ledger.session_started(1);
  CHECK(ledger.connecting());
  CHECK_FALSE(ledger.pick(Mode::direct));
  CHECK_FALSE(ledger.want_session(1, now));  // one handshake is enough for one waiting connection
  ledger.session_ready(1);
  CHECK_FALSE(ledger.connecting());
  CHECK(ledger.pick(Mode::direct) == 1u);
  CHECK(ledger.idle(1));
  CHECK(ledger.ready_sessions() == 1);
}

TEST_CASE("a channel counts from assignment until its open fails or it is released") {
  Ledger ledger = with_ready_session();
  ledger.channel_assigned(1, Mode::direct);
  CHECK(ledger.channels() == 1);
  CHECK_FALSE(ledger.idle(1));

  SUBCASE("opened, then released") {
    CHECK_FALSE(ledger.open_finished(1, Mode::direct, OpenOutcome::opened).pause_for_far_end);
    CHECK(ledger.channels() == 1);
    ledger.channel_released(1, Mode::direct);
    CHECK(ledger.channels() == 0);
    CHECK(ledger.idle(1));
  }
  SUBCASE("failed: freed at once") {
    ledger.open_finished(1, Mode::direct, OpenOutcome::failed);
    CHECK(ledger.channels() == 0);
  }
  SUBCASE("moved off a stuck session: freed, and the session takes no opens") {
    ledger.open_finished(1, Mode::direct, OpenOutcome::moved);
    CHECK(ledger.channels() == 0);
    CHECK_FALSE(ledger.pick(Mode::direct));
  }
  SUBCASE("the session dies: everything it counted goes with it") {
    ledger.session_ended(1, true, Clock::now());
    CHECK(ledger.channels() == 0);
    CHECK(ledger.sessions() == 0);
    CHECK_FALSE(ledger.known(1));
  }
}

TEST_CASE("limits per session and per mode") {
  Ledger ledger = with_ready_session();
  for (int i = 0; i < 2; ++i) {
    ledger.channel_assigned(1, Mode::netcat);
    ledger.open_finished(1, Mode::netcat, OpenOutcome::opened);
  }
  CHECK_FALSE(ledger.pick(Mode::netcat));   // exec limit 2 reached
  CHECK(ledger.pick(Mode::direct) == 1u);   // direct channels are counted apart
  for (int i = 0; i < 3; ++i) {
    ledger.channel_assigned(1, Mode::direct);
    ledger.open_finished(1, Mode::direct, OpenOutcome::opened);
  }
  CHECK_FALSE(ledger.pick(Mode::direct));
  ledger.channel_released(1, Mode::direct);
  CHECK(ledger.pick(Mode::direct) == 1u);
}

TEST_CASE("the far end refusing a session channel caps the session at what it has") {
  Ledger ledger = with_ready_session();
  ledger.channel_assigned(1, Mode::netcat);
  ledger.open_finished(1, Mode::netcat, OpenOutcome::opened);
  ledger.channel_assigned(1, Mode::netcat);
  SUBCASE("cap = the one it carries; lifted when one of its exec channels ends") {
    CHECK_FALSE(ledger.open_finished(1, Mode::netcat, OpenOutcome::far_end_full).pause_for_far_end);
    CHECK(ledger.channels() == 1);
    CHECK_FALSE(ledger.pick(Mode::netcat));
    CHECK(ledger.pick(Mode::direct) == 1u);
    ledger.channel_released(1, Mode::netcat);
    CHECK(ledger.pick(Mode::netcat) == 1u);
  }
  SUBCASE("with nothing of ours to end, only the pause lifts the cap") {
    ledger.channel_released(1, Mode::netcat);  // the opened one ends first
    CHECK(ledger.open_finished(1, Mode::netcat, OpenOutcome::far_end_full).pause_for_far_end);
    CHECK_FALSE(ledger.pick(Mode::netcat));
    ledger.refusal_pause_over();
    CHECK(ledger.pick(Mode::netcat) == 1u);
  }
}

TEST_CASE("a stalled session takes no opens until its stuck open finishes") {
  Ledger ledger = with_ready_session();
  ledger.channel_assigned(1, Mode::direct);  // the stuck one
  ledger.channel_assigned(1, Mode::direct);  // queued behind it
  ledger.open_finished(1, Mode::direct, OpenOutcome::moved);
  CHECK_FALSE(ledger.pick(Mode::direct));
  CHECK(ledger.channels() == 1);
  // It does not count against the session limit: another handshake may start.
  CHECK(ledger.want_session(1, Clock::now()));
  ledger.open_finished(1, Mode::direct, OpenOutcome::failed);  // the stuck open gave up at last
  CHECK(ledger.pick(Mode::direct) == 1u);
}

TEST_CASE("on a LAN a direct open queues behind a few ms of opens rather than wait for another session") {
  Ledger ledger(small_limits());
  ledger.session_started(1);
  ledger.session_ready(1, std::chrono::microseconds(300));
  for (int i = 0; i < 2; ++i) ledger.channel_assigned(1, Mode::direct);
  CHECK(ledger.pick(Mode::direct) == 1u);  // two opens ahead: 0.6 ms
  ledger.session_rtt(1, std::chrono::microseconds(3000));
  CHECK_FALSE(ledger.pick(Mode::direct));  // 6 ms: wait for the first to finish
}

TEST_CASE("a session whose lone open turned slow takes no opens and does not count, until it finishes") {
  Ledger ledger = ready_allowing(1);
  const auto now = Clock::now();
  ledger.channel_assigned(1, Mode::direct);
  CHECK_FALSE(ledger.want_session(1, now));  // at the limit: the waiting one waits for this open
  ledger.open_slow(1);
  CHECK_FALSE(ledger.pick(Mode::netcat));
  CHECK(ledger.want_session(1, now));  // the slow one does not count
  ledger.open_finished(1, Mode::direct, OpenOutcome::opened);
  CHECK(ledger.pick(Mode::direct) == 1u);
}

TEST_CASE("stalled sessions never let the pool exceed twice the session limit") {
  Ledger ledger(small_limits());  // sessions = 2
  for (dvpn::pool::SessionId id = 1; id <= 4; ++id) {
    ledger.session_started(id);
    ledger.session_ready(id);
    ledger.channel_assigned(id, Mode::direct);
    ledger.channel_assigned(id, Mode::direct);
    ledger.open_finished(id, Mode::direct, OpenOutcome::moved);
  }
  CHECK_FALSE(ledger.want_session(1, Clock::now()));
}

TEST_CASE("opens spread: fewest in flight first, then fewest channels") {
  Ledger ledger(small_limits());
  ledger.session_started(1);
  ledger.session_ready(1);
  ledger.session_started(2);
  ledger.session_ready(2);
  ledger.channel_assigned(1, Mode::direct);
  CHECK(ledger.pick(Mode::direct) == 2u);  // 1 has an open in flight
  ledger.channel_assigned(2, Mode::direct);
  ledger.open_finished(2, Mode::direct, OpenOutcome::opened);
  ledger.channel_assigned(2, Mode::direct);
  ledger.open_finished(2, Mode::direct, OpenOutcome::opened);
  CHECK(ledger.pick(Mode::direct) == 2u);  // 2 has more channels but no open in flight
  ledger.open_finished(1, Mode::direct, OpenOutcome::opened);
  CHECK(ledger.pick(Mode::direct) == 1u);  // now equal on opens: 1 has fewer channels
}

TEST_CASE("a direct open waits in the pool while every session has one in flight; netcat does not") {
  Limits limits = small_limits();
  limits.exec_channels_per_session = 10;
  limits.sessions = 4;
  Ledger ledger(limits);
  ledger.session_started(1);
  ledger.session_ready(1);
  ledger.session_started(2);
  ledger.session_ready(2);
  ledger.channel_assigned(1, Mode::direct);
  ledger.channel_assigned(2, Mode::direct);
  CHECK_FALSE(ledger.pick(Mode::direct));  // it would queue a round trip behind either
  CHECK(ledger.pick(Mode::direct, true));  // unless it waited connect_timeout for that already
  CHECK(ledger.pick(Mode::netcat));        // a spare channel may take it at once
  CHECK(ledger.want_session(1, Clock::now()));  // the one waiting calls for another session
  ledger.open_finished(2, Mode::direct, OpenOutcome::opened);
  CHECK(ledger.pick(Mode::direct) == 2u);  // the first session to finish an open takes it
}

TEST_CASE("another session: for waiting connections, queued opens, or busy channels") {
  Limits limits = small_limits();
  limits.spread_sessions = 2;
  Ledger ledger = with_ready_session(limits);
  const auto now = Clock::now();
  CHECK_FALSE(ledger.want_session(0, now));  // idle session
  ledger.channel_assigned(1, Mode::direct);
  CHECK(ledger.want_session(0, now));  // all sessions busy, below spread_sessions
  ledger.session_started(2);
  ledger.session_ready(2);
  CHECK_FALSE(ledger.want_session(1, now));  // at the session limit
}

TEST_CASE("failed handshakes back off, doubling to 30 s; a ready session resets it") {
  Ledger ledger(small_limits());
  auto now = Clock::now();
  ledger.session_started(1);
  ledger.session_ended(1, false, now);
  CHECK_FALSE(ledger.connecting());
  CHECK(ledger.backoff() == Duration{1000});
  CHECK(ledger.backing_off(now));
  CHECK_FALSE(ledger.want_session(1, now));
  CHECK(ledger.failed_since_ready());
  CHECK(ledger.want_session(1, now + Duration{1001}));
  for (dvpn::pool::SessionId id = 2; id < 10; ++id) {
    now += ledger.backoff() + Duration{1};
    ledger.session_started(id);
    ledger.session_ended(id, false, now);
  }
  CHECK(ledger.backoff() == Duration{30000});
  ledger.session_started(10);
  ledger.session_ready(10);
  CHECK(ledger.backoff() == Duration{0});
  CHECK_FALSE(ledger.backing_off(now));
  CHECK_FALSE(ledger.failed_since_ready());
}

TEST_CASE("a network change ends the backoff; the next failure backs off from 1 s again") {
  Ledger ledger(small_limits());
  auto now = Clock::now();
  for (dvpn::pool::SessionId id = 1; id <= 4; ++id) {
    ledger.session_started(id);
    ledger.session_ended(id, false, now);
    now += ledger.backoff() + Duration{1};
  }
  CHECK(ledger.backoff() == Duration{8000});
  now -= Duration{2};  // still backing off
  CHECK_FALSE(ledger.want_session(1, now));
  ledger.network_changed();
  CHECK_FALSE(ledger.backing_off(now));
  CHECK(ledger.want_session(1, now));
  CHECK(ledger.failed_since_ready());  // the next session is still a reconnect
  ledger.session_started(5);
  ledger.session_ended(5, false, now);
  CHECK(ledger.backoff() == Duration{1000});
}

TEST_CASE("a burst starts several handshakes at once, one per few waiting connections") {
  Limits limits = small_limits();
  limits.sessions = 8;
  Ledger ledger(limits);
  const auto now = Clock::now();
  dvpn::pool::SessionId id = 0;
  while (ledger.want_session(20, now)) ledger.session_started(++id);
  CHECK(id == 4);  // at most four in flight
  Ledger small(limits);
  id = 0;
  while (small.want_session(5, now)) small.session_started(++id);
  CHECK(id == 2);  // five waiting: two handshakes
  SUBCASE("handshakes that fail together double the backoff once") {
    for (dvpn::pool::SessionId s = 1; s <= 2; ++s) small.session_ended(s, false, now);
    CHECK(small.backoff() == Duration{1000});
    CHECK_FALSE(small.connecting());
  }
  SUBCASE("a ready one leaves the others in flight") {
    small.session_ready(1);
    CHECK(small.connecting());
    small.session_ready(2);
    CHECK_FALSE(small.connecting());
  }
}

TEST_CASE("a ready session's death is no handshake failure: no backoff") {
  Ledger ledger = with_ready_session();
  const auto now = Clock::now();
  ledger.session_ended(1, true, now);
  CHECK_FALSE(ledger.backing_off(now));
  CHECK(ledger.failed_since_ready());  // the next session counts as a reconnect
  CHECK(ledger.want_session(0, now));  // at once, with nothing waiting: keep one warm
}

TEST_CASE("an idle close forgets the session without a failure; late news about it is ignored") {
  Ledger ledger = with_ready_session();
  ledger.session_closed_idle(1);
  CHECK(ledger.sessions() == 0);
  CHECK_FALSE(ledger.failed_since_ready());
  ledger.session_ended(1, true, Clock::now());  // its own report arrives after
  CHECK_FALSE(ledger.failed_since_ready());
  ledger.channel_assigned(1, Mode::direct);
  ledger.channel_released(1, Mode::direct);
  CHECK(ledger.open_finished(1, Mode::netcat, OpenOutcome::far_end_full).pause_for_far_end == false);
  CHECK(ledger.channels() == 0);
}

TEST_CASE("opens queued behind others on their session call for more sessions, several at once") {
  Ledger ledger = ready_allowing(8);
  const auto now = Clock::now();
  ledger.channel_assigned(1, Mode::direct);
  CHECK_FALSE(ledger.want_session(0, now));  // one open in flight: nothing queued
  for (int i = 0; i < 12; ++i) ledger.channel_assigned(1, Mode::direct);  // 12 queued behind it
  dvpn::pool::SessionId id = 1;
  while (ledger.want_session(0, now)) ledger.session_started(++id);
  CHECK(id - 1 == 3);  // 12 queued: three handshakes (one per four)
}

TEST_CASE("warm sessions: opened ahead while the pool carries a channel, kept idle while it does") {
  Limits limits = small_limits();
  limits.sessions = 8;
  limits.warm_sessions = 6;
  Ledger ledger = with_ready_session(limits);
  const auto now = Clock::now();
  CHECK_FALSE(ledger.want_session(0, now));  // nothing carried: no warm sessions
  ledger.channel_assigned(1, Mode::direct);
  ledger.open_finished(1, Mode::direct, OpenOutcome::opened);
  dvpn::pool::SessionId id = 1;
  while (ledger.want_session(0, now)) ledger.session_started(++id);
  CHECK(id - 1 == 4);  // four handshakes at a time
  for (dvpn::pool::SessionId s = 2; s <= id; ++s) ledger.session_ready(s);
  while (ledger.want_session(0, now)) ledger.session_started(++id);
  CHECK(ledger.sessions() == 6);
  ledger.session_ready(6);
  CHECK(ledger.keep_warm(2));  // idle, but the pool is in use and not above warm_sessions
  ledger.channel_released(1, Mode::direct);
  CHECK_FALSE(ledger.keep_warm(2));  // nothing carried any more: idle_timeout applies to all
}
