// `dvpnd --firewall-params`: listen entries go through the config's own
// ADDRESS:PORT parser, so the firewall redirects only to ports dvpnd listens on.
#include <doctest/doctest.h>

#include "firewall_params.hpp"

using dvpn::firewall::params_text;

namespace {

dvpn::config::Config with_listen(std::vector<std::string> listen) {
  dvpn::config::Config cfg;
  cfg.listen = std::move(listen);
  cfg.run_as = "";  // no account lookup
  return cfg;
}

}  // namespace

TEST_CASE("listen ports are listed once each, in config order") {
  const auto text = params_text(with_listen({"0.0.0.0:7008", "[::]:7007", "[::1]:7008"}));
  CHECK(text.find("\nlisten_ports=7008 7007\n") != std::string::npos);
}

TEST_CASE("a listen entry the config refuses is refused here too") {
  for (const char* entry : {":7007", "7007", "localhost:7007", "::1:7007", "[::1]", "0.0.0.0:0"}) {
    CAPTURE(entry);
    CHECK_THROWS_AS(params_text(with_listen({entry})), dvpn::config::ConfigError);
  }
  CHECK_THROWS_WITH(params_text(with_listen({":7007"})),
                    "<defaults>: listen: ':7007': missing the address before \":\", "
                    "expected ADDRESS:PORT like 10.0.0.1:7007 or [::]:7007");
}
