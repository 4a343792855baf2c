#include <doctest/doctest.h>

#include "metrics/exposition.hpp"
#include "metrics/http.hpp"
#include "metrics/registry.hpp"
#include "metrics/render.hpp"

using namespace dvpn::metrics;

TEST_CASE("label values escape backslash, double quote and newline, nothing else") {
  CHECK(escape_label_value("plain site-1.example") == "plain site-1.example");
  CHECK(escape_label_value(R"(a\b"c)") == R"(a\\b\"c)");
  CHECK(escape_label_value("line\nnext") == "line\\nnext");
  CHECK(escape_label_value("/etc/hosts:7 tab\t") == "/etc/hosts:7 tab\t");
  Exposition out;
  out.sample("dvpn_x_total", {{"site", "say \"hi\"\\"}, {"result", "ok"}}, 3);
  CHECK(out.text() == "dvpn_x_total{site=\"say \\\"hi\\\"\\\\\",result=\"ok\"} 3\n");
}

TEST_CASE("values: integers plain, fractions exact and short, infinities") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(5242880) == "5242880");
  CHECK(format_value(0.005) == "0.005");
  CHECK(format_value(2.5) == "2.5");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
}

TEST_CASE("HELP and TYPE lines, HELP escaped") {
  Exposition out;
  out.family("dvpn_sites", "gauge", "Sites\\map\nsecond");
  CHECK(out.text() == "# HELP dvpn_sites Sites\\\\map\\nsecond\n# TYPE dvpn_sites gauge\n");
}

TEST_CASE("histogram buckets are cumulative, end at +Inf, and count equals +Inf") {
  Histogram h({0.1, 1, 10});
  for (double s : {0.05, 0.1, 0.5, 2.0, 3.0, 100.0}) h.observe(s);
  const auto counts = h.counts();
  CHECK(counts.counts == std::vector<std::uint64_t>{2, 1, 2, 1});  // 0.1 falls in le="0.1"
  CHECK(counts.sum == doctest::Approx(105.65));
  Exposition out;
  out.histogram("dvpn_t_seconds", {{"site", "b"}}, counts);
  CHECK(out.text() ==
        "dvpn_t_seconds_bucket{site=\"b\",le=\"0.1\"} 2\n"
        "dvpn_t_seconds_bucket{site=\"b\",le=\"1\"} 3\n"
        "dvpn_t_seconds_bucket{site=\"b\",le=\"10\"} 5\n"
        "dvpn_t_seconds_bucket{site=\"b\",le=\"+Inf\"} 6\n"
        "dvpn_t_seconds_sum{site=\"b\"} 105.65\n"
        "dvpn_t_seconds_count{site=\"b\"} 6\n");
  Exposition bare;
  bare.histogram("dvpn_u_seconds", {}, Histogram({1}).counts());
  CHECK(bare.text() ==
        "dvpn_u_seconds_bucket{le=\"1\"} 0\ndvpn_u_seconds_bucket{le=\"+Inf\"} 0\n"
        "dvpn_u_seconds_sum 0\ndvpn_u_seconds_count 0\n");
}

TEST_CASE("ending reasons reduce to a fixed set of result classes") {
  CHECK(classify("ok") == Result::ok);
  CHECK(classify("ok (far end exit 1)") == Result::ok);
  CHECK(classify("no-site") == Result::no_site);
  CHECK(classify("not-redirected (connected to the listener itself)") == Result::not_redirected);
  CHECK(classify("max-connections") == Result::max_connections);
  CHECK(classify("gateway-unreachable: cannot connect to dvpn@198.51.100.2:22: refused") ==
        Result::gateway_unreachable);
  CHECK(classify("timeout: no channel to dvpn@gw:22 within connect_timeout") == Result::timeout);
  CHECK(classify("abandoned") == Result::timeout);
  CHECK(classify("idle-timeout: no byte either way for 2h (limits.idle_timeout)") == Result::idle_timeout);
  CHECK(classify("far-end-refused: Channel open failure (connect failed)") == Result::far_end_refused);
  CHECK(classify("far-end-failed: exit 1: nc: connection refused") == Result::far_end_failed);
  CHECK(classify("far-end-reset: exit 1") == Result::far_end_reset);
  CHECK(classify("session-died: daemon stopping") == Result::session_died);
  CHECK(classify("client-gone: Broken pipe") == Result::client_reset);
  CHECK(classify("client-reset: Connection reset by peer") == Result::client_reset);
  CHECK(classify("channel error reading: timeout") == Result::channel_error);
  CHECK(classify("daemon stopping") == Result::shutdown);
  CHECK(classify("dropped") == Result::dropped);
  CHECK(classify("") == Result::other);
  CHECK(classify("okay") == Result::other);
  CHECK(classify("something new: x") == Result::other);
  for (std::size_t r = 0; r < result_count; ++r) {
    const std::string name = to_string(static_cast<Result>(r));
    CAPTURE(name);
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
  }
}

TEST_CASE("the page: counters by site and result, bytes only for sites, gauges from the snapshot") {
  Registry registry;
  registry.connection_ended("siteb", Result::ok, 100, 1 << 20, 0.2);
  registry.connection_ended("siteb", Result::ok, 50, 1 << 20, 0.3);
  registry.connection_ended("siteb", Result::far_end_failed, 10, 0, 0.01);
  registry.connection_ended("", Result::no_site, 0, 0, 0);
  registry.channel_opened(0.02);
  registry.hosts_reloaded(true);
  registry.hosts_reloaded(false);
  dvpn::StatusSnapshot snapshot;
  snapshot.live_connections = 2;
  snapshot.sites = 3;
  dvpn::pool::Stats g;
  g.endpoint = "dvpn@198.51.100.2:22";
  g.sessions = 2;
  g.ready_sessions = 1;
  g.handshake_failures = 4;
  g.reconnects = 3;
  snapshot.gateways.push_back(g);
  const std::string page = render(registry, snapshot, "0.1.0");
  auto has = [&](const std::string& line) {
    CAPTURE(line);
    CHECK(page.find("\n" + line + "\n") != std::string::npos);
  };
  has("dvpn_build_info{version=\"0.1.0\"} 1");
  has("dvpn_connections_total{site=\"siteb\",result=\"ok\"} 2");
  has("dvpn_connections_total{site=\"siteb\",result=\"far_end_failed\"} 1");
  has("dvpn_connections_total{site=\"\",result=\"no_site\"} 1");
  CHECK(page.find("site=\"\",result=\"ok\"") == std::string::npos);
  CHECK(page.find("dvpn_bytes_total{site=\"\"") == std::string::npos);
  has("dvpn_bytes_total{site=\"siteb\",direction=\"up\"} 160");
  has("dvpn_bytes_total{site=\"siteb\",direction=\"down\"} 2097152");
  has("dvpn_connections_active 2");
  has("dvpn_connection_duration_seconds_count 3");  // the no-site connection is not in it
  has("dvpn_channel_open_duration_seconds_bucket{le=\"0.025\"} 1");
  has("dvpn_sessions{endpoint=\"dvpn@198.51.100.2:22\",state=\"connecting\"} 1");
  has("dvpn_sessions{endpoint=\"dvpn@198.51.100.2:22\",state=\"ready\"} 1");
  has("dvpn_session_failures_total{endpoint=\"dvpn@198.51.100.2:22\",stage=\"handshake\"} 4");
  has("dvpn_session_reconnects_total{endpoint=\"dvpn@198.51.100.2:22\"} 3");
  has("dvpn_hosts_reloads_total{result=\"ok\"} 1");
  has("dvpn_hosts_reloads_total{result=\"failed\"} 1");
  has("dvpn_sites 3");
}

TEST_CASE("HTTP: GET /metrics is the page as text/plain 0.0.4; other paths 404, other methods 405") {
  auto page = [] { return std::string("dvpn_sites 1\n"); };
  const auto ok = http_reply("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", page);
  CHECK(ok ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: 13\r\n"
        "Connection: close\r\n\r\ndvpn_sites 1\n");
  CHECK(http_reply("GET /metrics?x=1 HTTP/1.0\r\n\r\n", page).starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(http_reply("GET / HTTP/1.1\r\n\r\n", page).starts_with("HTTP/1.1 404 Not Found\r\n"));
  CHECK(http_reply("GET /metricsx HTTP/1.1\r\n\r\n", page).starts_with("HTTP/1.1 404 Not Found\r\n"));
  CHECK(http_reply("POST /metrics HTTP/1.1\r\n\r\n", page).starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(http_reply("garbage\r\n\r\n", page).starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(http_reply("GET /metrics\r\n\r\n", page).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}
