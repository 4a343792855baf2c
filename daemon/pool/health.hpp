#pragma once
// The health of a site's paths, for sites with more than one: which paths
// are unhealthy (a session comes up, but its far end cannot reach the
// site), which path a new connection takes, and which probes are due. No
// I/O and no clock of its own: the Registry feeds it events and the time.
//
// Only a probe's verdict turns a path unhealthy or healthy again. A real
// connection's failure asks for a probe at once (reach.hpp: one failure may
// be one dead host), and a real connection that reached its host gives the
// probes their target: the site's last destination that answered (else
// the last one that failed, so that a path broken from the start is judged
// too). While the site has had a connection within probe_for, the tick
// probes the path in use and every unhealthy path before it, each every
// probe_interval; an unhealthy path's first success brings new
// connections back to it.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger.hpp"
#include "reach.hpp"
#include "target.hpp"

namespace dvpn::pool {

class HealthBook {
 public:
  explicit HealthBook(Duration probe_interval) : interval_(probe_interval) {}

  // One probe to start: `target` over `site`'s path `path`.
  struct Probe {
    std::string site;
    SshPath path;
    Target target;
  };
  // A path's state changed (for the log line).
  struct Change {
    bool unhealthy = false;  // else: healthy again
    std::string why;         // unhealthy: "far end cannot reach D port P: WHY"
  };
  using Failing = std::function<bool(const SshPath&)>;  // the path has no session and its last handshake failed

  // A connection of `site` is being placed (Target::paths of the site now).
  void used(const std::string& site, const std::vector<SshPath>& paths, Clock::time_point now);
  // The path a new connection takes: the first one neither failing nor
  // unhealthy; else the first one not failing; else the first.
  std::size_t choose(const std::string& site, const std::vector<SshPath>& paths, const Failing& failing) const;
  bool unhealthy(const std::string& site, const SshPath& path) const;
  // Why a path is unhealthy ("" if it is not).
  std::string why(const std::string& site, const SshPath& path) const;

  // A real connection of `site` to `target` ended on `path`, with `evidence`
  // (reach.hpp): a probe to start now, if it asks for one.
  std::optional<Probe> connection_ended(const std::string& site, const SshPath& path, const Target& target,
                                        const Evidence& evidence, Clock::time_point now);
  // A probe ended: a change of the path's state, if any.
  std::optional<Change> probe_ended(const std::string& site, const SshPath& path, const Evidence& evidence);
  // The periodic probes due at `now`; each is marked running.
  std::vector<Probe> due(Clock::time_point now, const Failing& failing);
  // Sites used within probe_for (the periodic tick stops when there are none).
  bool any_active(Clock::time_point now) const;

  // How long after a site's last connection its paths are still probed.
  static constexpr Duration probe_for{10 * 60 * 1000};

 private:
  struct PathState {
    bool unhealthy = false;
    std::string why;
    bool probing = false;             // a probe is running
    std::optional<Clock::time_point> last_probe;
    std::string probe_destination;    // of the running probe, for `why`
  };
  struct SiteState {
    std::vector<SshPath> paths;
    Clock::time_point last_used{};
    std::optional<Target> answered;   // the last destination a connection reached
    std::optional<Target> failed;     // the last one that failed, while none answered
    std::unordered_map<std::string, PathState> by_path;  // by SshPath::to_string()
  };
  const PathState* find(const std::string& site, const SshPath& path) const;
  // Marks the probe running and returns it, if the site has a target.
  std::optional<Probe> start(const std::string& site, SiteState& state, const SshPath& path, Clock::time_point now);

  Duration interval_;
  std::unordered_map<std::string, SiteState> sites_;
};

}  // namespace dvpn::pool
