#include "health.hpp"

#include <algorithm>

namespace dvpn::pool {
namespace {

// Real failures ask for probes at most this often per path (a client that
// retries a dead host in a loop must not turn into a probe per attempt).
constexpr Duration min_probe_gap{1000};

std::string destination_text(const Target& target) {
  return target.ip.to_string() + " port " + std::to_string(target.port);
}

}  // namespace

void HealthBook::used(const std::string& site, const std::vector<SshPath>& paths, Clock::time_point now) {
  SiteState& state = sites_[site];
  if (state.paths != paths) state.paths = paths;  // a reload may change them
  state.last_used = now;
}

const HealthBook::PathState* HealthBook::find(const std::string& site, const SshPath& path) const {
  const auto s = sites_.find(site);
  if (s == sites_.end()) return nullptr;
  const auto p = s->second.by_path.find(path.to_string());
  return p == s->second.by_path.end() ? nullptr : &p->second;
}

bool HealthBook::unhealthy(const std::string& site, const SshPath& path) const {
  const PathState* state = find(site, path);
  return state && state->unhealthy;
}

std::string HealthBook::why(const std::string& site, const SshPath& path) const {
  const PathState* state = find(site, path);
  return state && state->unhealthy ? state->why : std::string();
}

std::size_t HealthBook::choose(const std::string& site, const std::vector<SshPath>& paths,
                               const Failing& failing) const {
  std::optional<std::size_t> first_not_failing;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (failing(paths[i])) continue;
    if (!unhealthy(site, paths[i])) return i;
    if (!first_not_failing) first_not_failing = i;
  }
  return first_not_failing.value_or(0);
}

std::optional<HealthBook::Probe> HealthBook::start(const std::string& site, SiteState& state, const SshPath& path,
                                                   Clock::time_point now) {
  const std::optional<Target>& target = state.answered ? state.answered : state.failed;
  if (!target) return std::nullopt;
  PathState& p = state.by_path[path.to_string()];
  p.probing = true;
  p.last_probe = now;
  p.probe_destination = destination_text(*target);
  Probe probe{site, path, *target};
  probe.target.site = nullptr;  // owned by a route table the probe does not hold
  probe.target.paths = {path};  // the probe tries this path only: no fallback
  return probe;
}

std::optional<HealthBook::Probe> HealthBook::connection_ended(const std::string& site, const SshPath& path,
                                                              const Target& target, const Evidence& evidence,
                                                              Clock::time_point now) {
  SiteState& state = sites_[site];
  if (evidence.reach == Reach::reached) {
    state.answered = target;
    state.answered->site = nullptr;
    state.failed.reset();
    return std::nullopt;
  }
  if (evidence.reach != Reach::unreachable) return std::nullopt;
  if (!state.answered) {
    state.failed = target;
    state.failed->site = nullptr;
  }
  const PathState& p = state.by_path[path.to_string()];
  if (p.probing || (p.last_probe && now - *p.last_probe < std::min(min_probe_gap, interval_))) return std::nullopt;
  return start(site, state, path, now);
}

std::optional<HealthBook::Change> HealthBook::probe_ended(const std::string& site, const SshPath& path,
                                                          const Evidence& evidence) {
  const auto s = sites_.find(site);
  if (s == sites_.end()) return std::nullopt;
  PathState& p = s->second.by_path[path.to_string()];
  p.probing = false;
  if (evidence.reach == Reach::reached && p.unhealthy) {
    p.unhealthy = false;
    p.why.clear();
    return Change{false, {}};
  }
  if (evidence.reach != Reach::unreachable) return std::nullopt;
  const std::string why = "far end cannot reach " + p.probe_destination + ": " + evidence.why;
  const bool changed = !p.unhealthy;
  p.unhealthy = true;
  p.why = why;
  if (!changed) return std::nullopt;
  return Change{true, why};
}

std::vector<HealthBook::Probe> HealthBook::due(Clock::time_point now, const Failing& failing) {
  std::vector<Probe> probes;
  for (auto it = sites_.begin(); it != sites_.end();) {
    auto& [site, state] = *it;
    const bool running = std::any_of(state.by_path.begin(), state.by_path.end(),
                                     [](const auto& entry) { return entry.second.probing; });
    if (now - state.last_used >= probe_for) {
      // Quiet for long: forget it, and its next connection starts afresh.
      it = running ? std::next(it) : sites_.erase(it);
      continue;
    }
    // The path in use, and the unhealthy ones before it (the failing ones
    // retry their handshakes on their own: EndpointPool::keep_probing).
    const std::size_t in_use = choose(site, state.paths, failing);
    for (std::size_t i = 0; i <= in_use && i < state.paths.size(); ++i) {
      const SshPath& path = state.paths[i];
      const PathState* p = find(site, path);
      if (failing(path) || (i < in_use && !(p && p->unhealthy))) continue;
      // Half an interval: a probe a real failure asked for between two ticks
      // must not make the path wait for the tick after next.
      if (p && (p->probing || (p->last_probe && now - *p->last_probe < interval_ / 2))) continue;
      if (auto probe = start(site, state, path, now)) probes.push_back(std::move(*probe));
    }
    ++it;
  }
  return probes;
}

bool HealthBook::any_active(Clock::time_point now) const {
  return std::any_of(sites_.begin(), sites_.end(),
                     [&](const auto& entry) { return now - entry.second.last_used < probe_for; });
}

}  // namespace dvpn::pool
