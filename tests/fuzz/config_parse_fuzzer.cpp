// Fuzzes daemon::parse_config. Its contract: ConfigError for any bad input,
// never anything else (std::bad_alloc aside), so apitokend always starts with
// a file:line message instead of dying on an odd exception.
#include "daemon/config.hpp"
#include "store/name_rules.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <typeinfo>

namespace {

using apitoken::fuzz::check;
using apitoken::fuzz::property_failed;
using namespace apitoken::daemon;

// The invariants parse_config promises to the daemon for any accepted file.
void check_accepted(const Config& config) {
    if (config.max_lifetime) {
        check(config.default_lifetime.has_value(),
              "max_lifetime is set but default_lifetime is not");
        check(*config.default_lifetime <= *config.max_lifetime,
              "default_lifetime is longer than max_lifetime");
    }
    if (config.require_expiry) {
        check(config.default_lifetime.has_value(),
              "require_expiry is set but default_lifetime is not");
    }
    for (const auto& service : config.allowed_services) {
        check(apitoken::store::service_name_problem(service).empty(),
              "allowed_services holds a name that is no service name");
        check(std::count(config.allowed_services.begin(), config.allowed_services.end(), service) ==
                  1,
              "allowed_services holds a name twice");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        check_accepted(parse_config(text, "fuzz.conf"));
    } catch (const ConfigError&) {
        // The one expected way to refuse a file.
    } catch (const std::bad_alloc&) {
        // Allowed by the contract; libFuzzer's -rss_limit_mb reports real blow-ups.
    } catch (const std::exception& e) {
        static_cast<void>(
            std::fprintf(stderr, "parse_config threw %s: %s\n", typeid(e).name(), e.what()));
        property_failed("parse_config threw something other than ConfigError");
    } catch (...) {
        property_failed("parse_config threw a non-std exception");
    }
    return 0;
}
