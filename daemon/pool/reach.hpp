#pragma once
// What one connection's end says about its path: did the far end reach the
// site's host, or could it not get there? Pure, from the end= text that
// Connection logs, so the rules sit in one place and are unit-tested.
//
// The far end's own words differ by mode:
// - netcat: the far-end command's stderr, as `far-end-failed: exit N: TEXT`.
//   dvpn-gate and nc both print the connect's errno text, so "Connection
//   refused" (the host answered) tells apart from "No route to host".
// - direct: only "Channel open failure (connect failed)": sshd sends its
//   reason ("connect failed: No route to host"; "open failed" when connect()
//   fails at once, an unreachable route), but libssh2 1.10 keeps the reason
//   code and drops the text. A failed open is the same whether the host
//   refused or the network is unreachable; an open that succeeded is proof,
//   since sshd confirms a direct-tcpip channel only once connect() succeeded.
//
// So a single failure is never a verdict: one host may be down (ARP gives
// "No route to host" too). A real connection's failure asks for a probe
// (probe.hpp) towards a host the site reached before; the probe's own end
// is the verdict.
#include <cstdint>
#include <string>
#include <string_view>

#include "site.hpp"

namespace dvpn::pool {

enum class Reach {
  reached,      // the far end got an answer from the host: the path serves the site
  unreachable,  // the far end could not get there, or refused to try
  unknown,      // nothing about the far end's side (no session, the client left first, ...)
};

struct Evidence {
  Reach reach = Reach::unknown;
  std::string why;  // unreachable: the far end's reason, as short as it is given
};

// `reason`: the connection's end= text; `opened`: its channel opened (direct:
// connected; netcat: only that the command started); `bytes_down`: bytes
// the far end sent.
Evidence judge(hostsdb::Mode mode, std::string_view reason, bool opened, std::uint64_t bytes_down);

}  // namespace dvpn::pool
