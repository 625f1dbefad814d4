// Fuzzes the parsers of jenkins/ (apitokenctl import-jenkins) with bytes as
// they could sit in a hostile JENKINS_HOME: each input is read as a user's
// config.xml, as an apiTokenStats.xml and as users/users.xml. Their
// contract: never throw (std::bad_alloc aside), never crash or hang (the
// libxml2 set-up refuses DOCTYPEs, deep nesting, non-UTF-8), and whatever is
// accepted has the shape the importer relies on.
#include "jenkins/token_stats.hpp"
#include "jenkins/token_text.hpp"
#include "jenkins/user_config.hpp"
#include "jenkins/users_index.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <set>
#include <string_view>
#include <typeinfo>

namespace {

using apitoken::fuzz::check;
using apitoken::fuzz::property_failed;
using namespace apitoken::jenkins;

void check_user_config(const UserConfigParse& parsed) {
    check(parsed.config.has_value() != !parsed.error.empty(),
          "a user config is either read or refused with a reason");
    if (!parsed.config) {
        return;
    }
    check(!parsed.config->id || !parsed.config->id->empty(), "an accepted <id> is empty");
    std::set<std::string_view> uuids;
    for (const JenkinsToken& token : parsed.config->tokens) {
        check(is_uuid(token.uuid), "an accepted token has no uuid");
        check(uuids.insert(token.uuid).second, "two accepted tokens share a uuid");
        check(token.version == HashVersion::current || token.version == HashVersion::legacy,
              "an accepted token has another version");
        check(token.use_count == 0 && !token.last_used, "config.xml filled in statistics");
    }
}

void check_token_stats(const TokenStatsParse& parsed) {
    check(parsed.uses.has_value() != !parsed.error.empty(),
          "a stats file is either read or refused with a reason");
    if (parsed.uses) {
        for (const auto& [uuid, use] : *parsed.uses) {
            check(use.use_count <= 0x7FFFFFFFU, "a use count beyond a Java int");
        }
    }
}

void check_users_index(const UsersIndexParse& parsed) {
    check(parsed.ids.has_value() != !parsed.error.empty(),
          "users.xml is either read or refused with a reason");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        check_user_config(parse_user_config(bytes));
        check_token_stats(parse_token_stats(bytes));
        check_users_index(parse_users_index(bytes));
    } catch (const std::bad_alloc&) {
        // Allowed; libFuzzer's -rss_limit_mb reports real blow-ups.
    } catch (const std::exception& e) {
        static_cast<void>(
            std::fprintf(stderr, "jenkins parser threw %s: %s\n", typeid(e).name(), e.what()));
        property_failed("a jenkins parser threw");
    } catch (...) {
        property_failed("a jenkins parser threw a non-std exception");
    }
    return 0;
}
