// What a connection's end says about its path's far end: the texts dvpnd
// logs (end=...), as the far ends really word them (dvpn-gate, busybox nc,
// OpenSSH 9.2's direct-tcpip refusal as libssh2 1.10 passes it on).
#include "pool/reach.hpp"

#include <doctest/doctest.h>

using dvpn::hostsdb::Mode;
using dvpn::pool::judge;
using dvpn::pool::Reach;

TEST_CASE("netcat: the far end's errno text tells a host that answered from a network it cannot reach") {
  CHECK(judge(Mode::netcat, "far-end-failed: exit 1: nc: can't connect to remote host (10.20.0.2): Connection refused",
              true, 0)
            .reach == Reach::reached);
  CHECK(judge(Mode::netcat, "far-end-failed: exit 1: dvpn-gate: connect to 10.20.0.2 port 9: Connection refused", true,
              0)
            .reach == Reach::reached);
  for (const char* text : {"nc: can't connect to remote host (10.20.0.2): No route to host",
                           "nc: can't connect to remote host (10.20.0.2): Network is unreachable",
                           "dvpn-gate: connect to 10.20.0.2 port 80: Connection timed out",
                           "dvpn-gate: connect to 10.20.0.2 port 80: no answer within 10 s (--connect-timeout)",
                           "dvpn-gate: denied: 10.20.0.2 is outside this key's subnets",
                           "sh: nc: not found"}) {
    CAPTURE(text);
    const auto evidence = judge(Mode::netcat, std::string("far-end-failed: exit 1: ") + text, true, 0);
    CHECK(evidence.reach == Reach::unreachable);
    CHECK(evidence.why == std::string("exit 1: ") + text);
  }
  CHECK(judge(Mode::netcat, "far-end-refused: far end refused to run \"nc 10.20.0.2 80\": x", false, 0).reach ==
        Reach::unreachable);
}

TEST_CASE("netcat: a clean end or bytes from the far end mean it reached the host") {
  CHECK(judge(Mode::netcat, "ok", true, 0).reach == Reach::reached);
  CHECK(judge(Mode::netcat, "ok (far end exit 1)", true, 10).reach == Reach::reached);
  CHECK(judge(Mode::netcat, "far-end-reset: exit 1: dvpn-gate: from 10.20.0.2 port 80: Connection reset by peer",
              true, 100)
            .reach == Reach::reached);
  CHECK(judge(Mode::netcat, "client-reset: Connection reset by peer", true, 5).reach == Reach::reached);
  // The command started, nothing came back, the client left: no word from the far end.
  CHECK(judge(Mode::netcat, "client-reset: Connection reset by peer", true, 0).reach == Reach::unknown);
}

TEST_CASE("direct: an open channel is proof; a refused one cannot say why (libssh2 drops sshd's text)") {
  CHECK(judge(Mode::direct, "ok", true, 0).reach == Reach::reached);
  CHECK(judge(Mode::direct, "client-reset: Connection reset by peer", true, 0).reach == Reach::reached);
  const auto refused = judge(Mode::direct, "far-end-refused: Channel open failure (connect failed)", false, 0);
  CHECK(refused.reach == Reach::unreachable);
  CHECK(refused.why == "Channel open failure (connect failed)");
  CHECK(judge(Mode::direct, "far-end-refused: Channel open failure (administratively prohibited)", false, 0).reach ==
        Reach::unreachable);
  const auto silent = judge(Mode::direct, "timeout: no channel to dvpn@198.51.100.2:22 within connect_timeout", false, 0);
  CHECK(silent.reach == Reach::unreachable);
  CHECK(silent.why == "no answer within connect_timeout");
}

TEST_CASE("no word from the far end: no session, a dead session, every channel busy, the client gone first") {
  for (Mode mode : {Mode::netcat, Mode::direct}) {
    CAPTURE(dvpn::hostsdb::to_string(mode));
    CHECK(judge(mode, "gateway-unreachable: cannot connect to dvpn@198.51.100.2:22: Connection refused", false, 0)
              .reach == Reach::unknown);
    CHECK(judge(mode, "session-died: opening a channel", false, 0).reach == Reach::unknown);
    CHECK(judge(mode, "session-died: Connection reset by peer", true, 0).reach == Reach::unknown);
    CHECK(judge(mode, "timeout: every channel to dvpn@198.51.100.2:22 busy for connect_timeout", false, 0).reach ==
          Reach::unknown);
    CHECK(judge(mode, "abandoned", false, 0).reach == Reach::unknown);
  }
}
