#include "daemon/config.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apitoken::daemon {
namespace {

using namespace std::string_view_literals;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kFile = "test.conf";

Config parse(std::string_view text) {
    return parse_config(text, kFile);
}

// The ConfigError message for `text`; fails the test when it parses.
std::string error_of(std::string_view text) {
    try {
        static_cast<void>(parse_config(text, kFile));
    } catch (const ConfigError& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected a ConfigError for: " << text;
    return {};
}

std::string load_error_of(const std::filesystem::path& path, bool must_exist) {
    try {
        static_cast<void>(load_config(path, must_exist));
    } catch (const ConfigError& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected a ConfigError for " << path;
    return {};
}

void write_file(const std::filesystem::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good());
}

bool is_printable_line(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte >= 0x20 && byte < 0x7F;
    });
}

TEST(ConfigParse, DefaultsAreTheDocumentedOnes) {
    const Config config;
    EXPECT_EQ(config.hash, store::HashParams::defaults());
    EXPECT_EQ(config.workers, 0U);
    EXPECT_EQ(config.queue_size, 256U);
    EXPECT_EQ(config.throttle_max_failures, 5U);
    EXPECT_EQ(config.throttle_window, seconds{60});
    EXPECT_EQ(config.default_lifetime, std::nullopt);
    EXPECT_EQ(config.max_lifetime, std::nullopt);
    EXPECT_EQ(config.max_tokens_per_user, 100U);
    EXPECT_EQ(config.auth_group, "apitoken-auth");
    EXPECT_EQ(config.admin_group, "apitoken-admin");
    EXPECT_EQ(config.usage_flush_interval, seconds{5});
    EXPECT_EQ(config.expired_retention, days{30});
    EXPECT_EQ(config.max_store_size, std::size_t{4} << 30U);
    EXPECT_FALSE(config.debug);
    EXPECT_FALSE(config.require_expiry);
    EXPECT_EQ(config.max_idle, std::nullopt);
    EXPECT_TRUE(config.allowed_services.empty());
    EXPECT_FALSE(config.require_services);
    EXPECT_EQ(config.expiry_warning, days{7});
    EXPECT_FALSE(config.services_required());
    EXPECT_TRUE(config.service_allowed("sshd"));
}

TEST(ConfigParse, EmptyOrCommentOnlyTextGivesDefaults) {
    for (const std::string_view text : {""sv, "\n\n\n"sv, "# a comment\n   # indented\n\t\n"sv,
                                        "\r\n  \r\n"sv, "#workers = 3\n# debug = yes"sv}) {
        EXPECT_EQ(parse(text), Config{}) << text;
    }
}

TEST(ConfigParse, EveryKeyIsParsed) {
    const Config config = parse("argon2_time_cost = 3\n"
                                "argon2_memory_kib = 1024\n"
                                "workers = 8\n"
                                "queue_size = 1000\n"
                                "throttle_max_failures = 10\n"
                                "throttle_window = 15m\n"
                                "default_lifetime = 90d\n"
                                "max_lifetime = 52w\n"
                                "max_tokens_per_user = 20\n"
                                "auth_group = www-data\n"
                                "admin_group = wheel\n"
                                "usage_flush_interval = 30s\n"
                                "expired_retention = 12h\n"
                                "max_store_size = 512M\n"
                                "debug = yes\n"
                                "require_expiry = yes\n"
                                "max_idle = 26w\n"
                                "allowed_services = sshd, dovecot\n"
                                "require_services = yes\n"
                                "expiry_warning = 14d\n");
    EXPECT_EQ(config.hash.opslimit, 3U);
    EXPECT_EQ(config.hash.memlimit, std::size_t{1024} * 1024);
    EXPECT_EQ(config.workers, 8U);
    EXPECT_EQ(config.queue_size, 1000U);
    EXPECT_EQ(config.throttle_max_failures, 10U);
    EXPECT_EQ(config.throttle_window, minutes{15});
    EXPECT_EQ(config.default_lifetime, days{90});
    EXPECT_EQ(config.max_lifetime, std::chrono::weeks{52});
    EXPECT_EQ(config.max_tokens_per_user, 20U);
    EXPECT_EQ(config.auth_group, "www-data");
    EXPECT_EQ(config.admin_group, "wheel");
    EXPECT_EQ(config.usage_flush_interval, seconds{30});
    EXPECT_EQ(config.expired_retention, hours{12});
    EXPECT_EQ(config.max_store_size, std::size_t{512} << 20U);
    EXPECT_TRUE(config.debug);
    EXPECT_TRUE(config.require_expiry);
    EXPECT_EQ(config.max_idle, std::chrono::weeks{26});
    EXPECT_EQ(config.allowed_services, (std::vector<std::string>{"sshd", "dovecot"}));
    EXPECT_TRUE(config.require_services);
    EXPECT_EQ(config.expiry_warning, days{14});
}

TEST(ConfigParse, FleetKeysAreParsedAndFleetModeIsOffUntilADatabaseIsNamed) {
    EXPECT_FALSE(parse("").fleet());
    EXPECT_FALSE(parse("fleet_database =").fleet());
    const Config c = parse("fleet_database = host=/run/pg dbname=tokens sslmode=verify-full\n"
                           "fleet_host_name = web-1.example.com\n"
                           "fleet_offline_grace = 2h\n"
                           "fleet_poll_interval = 10s\n"
                           "fleet_create_scope = this-host\n"
                           "fleet_match_uid = no\n");
    EXPECT_TRUE(c.fleet());
    EXPECT_EQ(c.fleet_database, "host=/run/pg dbname=tokens sslmode=verify-full");
    EXPECT_EQ(c.fleet_host_name, "web-1.example.com");
    EXPECT_EQ(c.fleet_offline_grace, hours{2});
    EXPECT_EQ(c.fleet_poll_interval, seconds{10});
    EXPECT_TRUE(c.fleet_create_scope_this_host);
    EXPECT_FALSE(c.fleet_match_uid);
}

TEST(ConfigParse, BadFleetValuesAreRefusedWithTheReason) {
    EXPECT_NE(error_of("fleet_host_name = web_1/x").find("not a host name"), std::string::npos);
    EXPECT_NE(error_of("fleet_create_scope = everywhere").find("not fleet or this-host"),
              std::string::npos);
    EXPECT_NE(error_of("fleet_poll_interval = 2h").find("fleet_poll_interval"), std::string::npos);
    EXPECT_NE(error_of("fleet_database = a\x01b").find("not a libpq connection string"),
              std::string::npos);
}

TEST(ConfigParse, WhitespaceAroundKeyAndValueIsIgnored) {
    const Config config = parse(" \t workers \t=\t 4 \r\n"
                                "queue_size=7\n"
                                "   # comment after blanks\n"
                                "admin_group =  domain admins  \n"
                                "debug = on"); // no final newline
    EXPECT_EQ(config.workers, 4U);
    EXPECT_EQ(config.queue_size, 7U);
    EXPECT_EQ(config.admin_group, "domain admins") << "inner spaces are part of the value";
    EXPECT_TRUE(config.debug);
}

TEST(ConfigParse, UnknownOrMisspelledKeyIsRefusedWithItsLine) {
    EXPECT_EQ(error_of("workers = 2\nworker = 2\n"), "test.conf:2: worker: unknown key");
    EXPECT_EQ(error_of("Workers = 2"), "test.conf:1: Workers: unknown key");
    EXPECT_EQ(error_of("[daemon]\nworkers = 2"),
              "test.conf:1: '[daemon]' is not 'key = value' (comments start with '#')");
}

TEST(ConfigParse, LineWithoutKeyOrValueIsRefused) {
    EXPECT_EQ(error_of("\n\nworkers 2\n"),
              "test.conf:3: 'workers 2' is not 'key = value' (comments start with '#')");
    EXPECT_EQ(error_of("; comment"),
              "test.conf:1: '; comment' is not 'key = value' (comments start with '#')");
    EXPECT_EQ(error_of("  = 2"), "test.conf:1: '= 2' has no key before '='");
    EXPECT_EQ(error_of("workers ="), "test.conf:1: workers: the value is empty");
    EXPECT_EQ(error_of("workers = \t \r\n"), "test.conf:1: workers: the value is empty");
}

TEST(ConfigParse, DuplicateKeyIsRefusedNamingBothLines) {
    EXPECT_EQ(error_of("workers = 2\n\nworkers = 2\n"),
              "test.conf:3: workers: set again (already set on line 1)");
    EXPECT_EQ(error_of("debug = no\nqueue_size = 5\n  debug=no"),
              "test.conf:3: debug: set again (already set on line 1)");
}

TEST(ConfigParse, BadNumbersAreRefusedWithTheReason) {
    const std::array<std::pair<std::string_view, std::string_view>, 13> cases{{
        {"workers = abc", "test.conf:1: workers: 'abc' is not a whole number"},
        {"workers = +3", "test.conf:1: workers: '+3' is not a whole number"},
        {"queue_size = -1", "test.conf:1: queue_size: '-1' is negative"},
        {"queue_size = 12abc", "test.conf:1: queue_size: '12abc' has text after the number"},
        {"queue_size = 5 # five", "test.conf:1: queue_size: '5 # five' has text after the number"},
        {"queue_size = 1.5", "test.conf:1: queue_size: '1.5' has text after the number"},
        {"queue_size = 0x10", "test.conf:1: queue_size: '0x10' has text after the number"},
        {"queue_size = 0", "test.conf:1: queue_size: '0' is out of range (1 to 65536)"},
        {"queue_size = 65537", "test.conf:1: queue_size: '65537' is out of range (1 to 65536)"},
        {"workers = 1025", "test.conf:1: workers: '1025' is out of range (0 to 1024)"},
        {"workers = 99999999999999999999999",
         "test.conf:1: workers: '99999999999999999999999' is out of range (0 to 1024)"},
        {"throttle_max_failures = 1001",
         "test.conf:1: throttle_max_failures: '1001' is out of range (1 to 1000)"},
        {"max_tokens_per_user = 0",
         "test.conf:1: max_tokens_per_user: '0' is out of range (1 to 100000)"},
    }};
    for (const auto& [text, message] : cases) {
        EXPECT_EQ(error_of(text), message);
    }
}

TEST(ConfigParse, NumbersAtTheEdgesOfTheirRangeAreAccepted) {
    EXPECT_EQ(parse("queue_size = 1").queue_size, 1U);
    EXPECT_EQ(parse("queue_size = 65536").queue_size, 65536U);
    EXPECT_EQ(parse("throttle_max_failures = 1").throttle_max_failures, 1U);
    EXPECT_EQ(parse("throttle_max_failures = 1000").throttle_max_failures, 1000U);
    EXPECT_EQ(parse("max_tokens_per_user = 100000").max_tokens_per_user, 100000U);
    EXPECT_EQ(parse("workers = 1024").workers, 1024U);
    EXPECT_EQ(parse("workers = 0").workers, 0U);
}

TEST(ConfigParse, HashParametersOutsideLibsodiumLimitsNameTheKey) {
    const std::string time_prefix = "test.conf:1: argon2_time_cost: Argon2id time cost must be";
    const std::string memory_prefix =
        "test.conf:2: argon2_memory_kib: Argon2id memory cost must be";
    EXPECT_TRUE(error_of("argon2_time_cost = 0").starts_with(time_prefix));
    EXPECT_TRUE(error_of("argon2_time_cost = 4294967296").starts_with(time_prefix));
    EXPECT_TRUE(error_of("\nargon2_memory_kib = 7").starts_with(memory_prefix));
    EXPECT_TRUE(error_of("\nargon2_memory_kib = 4194305").starts_with(memory_prefix));
    EXPECT_EQ(error_of("argon2_memory_kib = 18014398509481984"),
              "test.conf:1: argon2_memory_kib: '18014398509481984' is out of range "
              "(0 to 18014398509481983)")
        << "KiB that overflow bytes are refused before multiplying";
    EXPECT_EQ(parse("argon2_memory_kib = 8").hash.memlimit, 8192U);
    EXPECT_EQ(parse("argon2_memory_kib = 4194304").hash.memlimit, std::size_t{4} << 30U);
    EXPECT_EQ(parse("argon2_time_cost = 4294967295").hash.opslimit, 4294967295U);
}

TEST(ConfigParse, BadDurationsAreRefused) {
    const std::string not_duration = " is not a duration (a positive number and a unit s, m, h, d "
                                     "or w, such as 90s, 15m, 12h, 30d or 2w";
    EXPECT_EQ(error_of("throttle_window = 60"),
              "test.conf:1: throttle_window: '60'" + not_duration + ")");
    EXPECT_EQ(error_of("throttle_window = never"),
              "test.conf:1: throttle_window: 'never'" + not_duration + ")")
        << "never is only for lifetimes";
    EXPECT_EQ(error_of("default_lifetime = 0d"),
              "test.conf:1: default_lifetime: '0d'" + not_duration + "; or never)");
    EXPECT_EQ(error_of("max_lifetime = 1.5h"),
              "test.conf:1: max_lifetime: '1.5h'" + not_duration + "; or never)");
    EXPECT_EQ(error_of("expired_retention = -30d"),
              "test.conf:1: expired_retention: '-30d'" + not_duration + ")");
    EXPECT_EQ(error_of("expired_retention = 36526d"),
              "test.conf:1: expired_retention: '36526d'" + not_duration + ")");
    EXPECT_EQ(error_of("usage_flush_interval = 61m"),
              "test.conf:1: usage_flush_interval: '61m' is out of range (1s to 1h)");
    EXPECT_EQ(parse("usage_flush_interval = 1h").usage_flush_interval, hours{1});
    EXPECT_EQ(parse("usage_flush_interval = 1s").usage_flush_interval, seconds{1});
}

TEST(ConfigParse, SizesTakeKMOrGSuffixAndAtLeastOneMebibyte) {
    EXPECT_EQ(parse("max_store_size = 1M").max_store_size, std::size_t{1} << 20U);
    EXPECT_EQ(parse("max_store_size = 1024K").max_store_size, std::size_t{1} << 20U);
    EXPECT_EQ(parse("max_store_size = 1048576").max_store_size, std::size_t{1} << 20U);
    EXPECT_EQ(parse("max_store_size = 16G").max_store_size, std::size_t{16} << 30U);
    EXPECT_EQ(error_of("max_store_size = 1023K"),
              "test.conf:1: max_store_size: '1023K' is too small (at least 1M)");
    for (const std::string_view value :
         {"4g"sv, "4GB"sv, "4T"sv, "G"sv, "-1G"sv, "1.5G"sv, "4 G"sv, "17179869184G"sv}) {
        EXPECT_EQ(error_of("max_store_size = " + std::string(value)),
                  "test.conf:1: max_store_size: '" + std::string(value) +
                      "' is not a size in range (such as 512M or 4G)");
    }
}

TEST(ConfigParse, BooleansTakeTheUsualWords) {
    for (const std::string_view yes : {"yes"sv, "true"sv, "1"sv, "on"sv}) {
        EXPECT_TRUE(parse("debug = " + std::string(yes)).debug) << yes;
    }
    for (const std::string_view no : {"no"sv, "false"sv, "0"sv, "off"sv}) {
        EXPECT_FALSE(parse("debug = " + std::string(no)).debug) << no;
    }
    for (const std::string_view bad : {"Yes"sv, "y"sv, "2"sv, "enabled"sv}) {
        EXPECT_EQ(error_of("debug = " + std::string(bad)),
                  "test.conf:1: debug: '" + std::string(bad) +
                      "' is not yes, no, true, false, on, off, 1 or 0");
    }
}

TEST(ConfigParse, GroupNamesThatNssCannotHoldAreRefused) {
    const std::string reason = "' is not a group name (at most 256 bytes, no control characters, "
                               "no ':')";
    EXPECT_EQ(error_of("auth_group = www:data"), "test.conf:1: auth_group: 'www:data" + reason);
    EXPECT_EQ(error_of("admin_group = a\tb"), "test.conf:1: admin_group: 'a\\x09b" + reason);
    EXPECT_EQ(parse("auth_group = " + std::string(256, 'g')).auth_group, std::string(256, 'g'));
    EXPECT_TRUE(error_of("auth_group = " + std::string(257, 'g')).ends_with(reason));
}

TEST(ConfigParse, DefaultLifetimeLongerThanMaximumIsRefusedNamingBoth) {
    EXPECT_EQ(error_of("default_lifetime = 90d\nmax_lifetime = 30d\n"),
              "test.conf:1: default_lifetime: 90d is longer than max_lifetime (30d, line 2)");
    EXPECT_EQ(error_of("max_lifetime = 30d\n# later\ndefault_lifetime = 721h\n"),
              "test.conf:3: default_lifetime: 721h is longer than max_lifetime (30d, line 1)");
    EXPECT_EQ(error_of("default_lifetime = never\nmax_lifetime = 2w\n"),
              "test.conf:1: default_lifetime: never is longer than max_lifetime (2w, line 2)");
}

TEST(ConfigParse, LifetimesWithinTheMaximumAreAccepted) {
    const Config equal = parse("default_lifetime = 720h\nmax_lifetime = 30d\n");
    EXPECT_EQ(equal.default_lifetime, days{30});
    EXPECT_EQ(equal.max_lifetime, days{30});

    const Config no_bound = parse("default_lifetime = 90d\nmax_lifetime = never\n");
    EXPECT_EQ(no_bound.default_lifetime, days{90});
    EXPECT_EQ(no_bound.max_lifetime, std::nullopt);

    const Config never = parse("default_lifetime = never\n");
    EXPECT_EQ(never.default_lifetime, std::nullopt);
}

TEST(ConfigParse, MaximumAloneBecomesTheDefaultLifetime) {
    const Config config = parse("max_lifetime = 90d\n");
    EXPECT_EQ(config.max_lifetime, days{90});
    EXPECT_EQ(config.default_lifetime, days{90})
        << "a token created without --expires must not outlive the maximum";
}

TEST(ConfigParse, PolicyDurationsTakeTheirRanges) {
    EXPECT_EQ(parse("max_idle = never").max_idle, std::nullopt);
    EXPECT_EQ(parse("max_idle = 90d").max_idle, days{90});
    EXPECT_EQ(parse("max_idle = 1s").max_idle, seconds{1});
    EXPECT_EQ(parse("expiry_warning = 1d").expiry_warning, days{1});
    EXPECT_EQ(parse("expiry_warning = 36525d").expiry_warning, days{36525});
    const std::string not_duration = " is not a duration (a positive number and a unit s, m, h, d "
                                     "or w, such as 90s, 15m, 12h, 30d or 2w";
    EXPECT_EQ(error_of("max_idle = 0d"),
              "test.conf:1: max_idle: '0d'" + not_duration + "; or never)");
    EXPECT_EQ(error_of("max_idle = 1y"),
              "test.conf:1: max_idle: '1y'" + not_duration + "; or never)");
    EXPECT_EQ(error_of("expiry_warning = never"),
              "test.conf:1: expiry_warning: 'never'" + not_duration + ")");
    EXPECT_EQ(error_of("expiry_warning = 7"),
              "test.conf:1: expiry_warning: '7'" + not_duration + ")");
    EXPECT_EQ(error_of("require_expiry = maybe"),
              "test.conf:1: require_expiry: 'maybe' is not yes, no, true, false, on, off, 1 or 0");
    EXPECT_EQ(error_of("require_services = Y"),
              "test.conf:1: require_services: 'Y' is not yes, no, true, false, on, off, 1 or 0");
}

TEST(ConfigParse, AllowedServicesAreSeparatedByBlanksOrCommas) {
    using Services = std::vector<std::string>;
    EXPECT_EQ(parse("allowed_services = sshd").allowed_services, Services{"sshd"});
    EXPECT_EQ(parse("allowed_services = sshd dovecot").allowed_services,
              (Services{"sshd", "dovecot"}));
    EXPECT_EQ(parse("allowed_services = sshd,dovecot, imap ,\tsmtp  login").allowed_services,
              (Services{"sshd", "dovecot", "imap", "smtp", "login"}));
    EXPECT_EQ(parse("allowed_services = imap sshd imap").allowed_services,
              (Services{"imap", "sshd"}))
        << "a name given twice is kept once, in the file's order";
    EXPECT_EQ(parse("allowed_services = a.b_c+d@e-f").allowed_services, Services{"a.b_c+d@e-f"});
    EXPECT_EQ(parse("allowed_services =").allowed_services, Services{})
        << "an empty list is a value: any service";
    EXPECT_EQ(parse("allowed_services = , ,").allowed_services, Services{});
    EXPECT_EQ(error_of("allowed_services =\nallowed_services = sshd"),
              "test.conf:2: allowed_services: set again (already set on line 1)");
    EXPECT_EQ(error_of("workers ="), "test.conf:1: workers: the value is empty")
        << "other keys still need a value";
}

TEST(ConfigParse, AllowedServicesThatNoPamServiceCanBeAreRefused) {
    const std::string chars = ": a service name may only contain letters, digits and . _ + @ - and "
                              "must not start with '.'";
    EXPECT_EQ(error_of("allowed_services = sshd .hidden"),
              "test.conf:1: allowed_services: '.hidden'" + chars);
    EXPECT_EQ(error_of("allowed_services = sshd;login"),
              "test.conf:1: allowed_services: 'sshd;login'" + chars);
    EXPECT_EQ(error_of("allowed_services = ../../etc/passwd"),
              "test.conf:1: allowed_services: '../../etc/passwd'" + chars);
    EXPECT_EQ(error_of("allowed_services = s\xc3\xa9"),
              "test.conf:1: allowed_services: 's\\xc3\\xa9'" + chars);
    EXPECT_EQ(error_of("allowed_services = " + std::string(65, 's')),
              "test.conf:1: allowed_services: '" + std::string(64, 's') +
                  "...': a service name must be 1 to 64 characters long");
}

TEST(ConfigParse, ServicePolicyHelpers) {
    Config config;
    config.require_services = true;
    EXPECT_TRUE(config.services_required());
    EXPECT_TRUE(config.service_allowed("anything"));

    const Config limited = parse("allowed_services = sshd imap");
    EXPECT_FALSE(limited.require_services);
    EXPECT_TRUE(limited.services_required())
        << "a token naming no service could use any: not within the allowed list";
    EXPECT_TRUE(limited.service_allowed("sshd"));
    EXPECT_TRUE(limited.service_allowed("imap"));
    EXPECT_FALSE(limited.service_allowed("login"));
    EXPECT_FALSE(limited.service_allowed("SSHD"));
    EXPECT_FALSE(limited.service_allowed(""));
}

TEST(ConfigParse, RequiredExpiryNeedsALifetimeForTokensCreatedWithoutOne) {
    EXPECT_EQ(error_of("\nrequire_expiry = yes\n"),
              "test.conf:2: require_expiry: needs default_lifetime or max_lifetime: the lifetime "
              "of a token created without --expires");
    EXPECT_EQ(error_of("default_lifetime = never\nrequire_expiry = yes\n"),
              "test.conf:1: default_lifetime: never contradicts require_expiry (line 2)");
    EXPECT_EQ(error_of("require_expiry = yes\nmax_lifetime = never\n"),
              "test.conf:1: require_expiry: needs default_lifetime or max_lifetime: the lifetime "
              "of a token created without --expires")
        << "max_lifetime = never gives no lifetime either";

    const Config with_default = parse("require_expiry = yes\ndefault_lifetime = 30d\n");
    EXPECT_TRUE(with_default.require_expiry);
    EXPECT_EQ(with_default.default_lifetime, days{30});
    EXPECT_EQ(with_default.max_lifetime, std::nullopt) << "no maximum is needed";

    const Config with_maximum = parse("require_expiry = yes\nmax_lifetime = 90d\n");
    EXPECT_EQ(with_maximum.default_lifetime, days{90});

    const Config off = parse("require_expiry = no\ndefault_lifetime = never\n");
    EXPECT_FALSE(off.require_expiry);
    EXPECT_EQ(off.default_lifetime, std::nullopt);
}

TEST(ConfigParse, OverlongLineIsRefusedAtThatLine) {
    const std::string longest_comment = "#" + std::string(kMaxConfigLineBytes - 1, 'x');
    EXPECT_EQ(parse(longest_comment + "\n"), Config{});
    EXPECT_EQ(error_of("workers = 1\n\n" + longest_comment + "x\n"),
              "test.conf:3: line is longer than 4096 bytes");
    EXPECT_EQ(error_of("auth_group = " + std::string(5000, 'a')),
              "test.conf:1: line is longer than 4096 bytes");
}

TEST(ConfigParse, FileOverOneMebibyteIsRefused) {
    std::string text;
    while (text.size() < kMaxConfigFileBytes) {
        text += "# padding\n";
    }
    text.resize(kMaxConfigFileBytes);
    text.back() = '\n';
    EXPECT_EQ(parse(text), Config{});
    text += "\n";
    EXPECT_EQ(error_of(text), "test.conf: file is larger than 1 MiB");
}

TEST(ConfigParse, NulBytesAndInvalidUtf8AreRefusedAndShownEscaped) {
    EXPECT_EQ(error_of("workers\0 = 2"sv), "test.conf:1: workers\\x00: unknown key");
    EXPECT_EQ(error_of("debug = yes\0"sv),
              "test.conf:1: debug: 'yes\\x00' is not yes, no, true, false, on, off, 1 or 0");
    EXPECT_EQ(error_of("workers = 2\0"sv),
              "test.conf:1: workers: '2\\x00' has text after the number");
    EXPECT_TRUE(error_of("auth_group = a\0b"sv).starts_with("test.conf:1: auth_group: 'a\\x00b'"));
    EXPECT_EQ(error_of("\xff\xfe = 1"), "test.conf:1: \\xff\\xfe: unknown key");
    EXPECT_EQ(error_of("w\\x00rkers = 1"), "test.conf:1: w\\x5cx00rkers: unknown key")
        << "a backslash in the file cannot pass for an escape in the message";
}

TEST(ConfigParse, MessagesShowOnlyTheStartOfAHugeKeyOrValue) {
    const std::string message = error_of(std::string(3000, 'k') + " = 1");
    EXPECT_EQ(message, "test.conf:1: " + std::string(64, 'k') + "...: unknown key");
    const std::string nul_line(1000, '\0');
    const std::string nul_message = error_of(nul_line);
    EXPECT_TRUE(is_printable_line(nul_message)) << nul_message;
    EXPECT_LT(nul_message.size(), 400U);
}

TEST(ConfigParse, ArbitraryBytesGiveAConfigOrAPrintableConfigError) {
    // Fragments that reach every branch (keys, values, separators) mixed with
    // random bytes; a fixed seed keeps failures reproducible.
    const std::array<std::string_view, 15> fragments{"workers",
                                                     "debug",
                                                     "max_lifetime",
                                                     "default_lifetime",
                                                     "max_store_size",
                                                     "require_expiry",
                                                     "allowed_services",
                                                     ",",
                                                     " = ",
                                                     "=",
                                                     "\n",
                                                     "#",
                                                     "9",
                                                     "d",
                                                     "\xc3"};
    std::mt19937 random(20261101);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> pick(0, fragments.size() + 3);
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        for (int piece = 0; piece < 12; ++piece) {
            const std::size_t choice = pick(random);
            if (choice < fragments.size()) {
                text += fragments.at(choice);
            } else {
                text += static_cast<char>(byte(random));
            }
        }
        try {
            static_cast<void>(parse(text));
        } catch (const ConfigError& error) {
            const std::string_view message = error.what();
            EXPECT_TRUE(message.starts_with("test.conf:")) << message;
            EXPECT_TRUE(is_printable_line(message)) << message;
        }
    }
}

TEST(ConfigLoad, MissingFileGivesDefaultsUnlessRequired) {
    const apitoken::testing::TempDir dir;
    const auto path = dir / "apitokend.conf";
    EXPECT_EQ(load_config(path, false), Config{});
    EXPECT_EQ(load_error_of(path, true),
              path.string() + ": cannot read: No such file or directory");
}

TEST(ConfigLoad, ReadsTheFileAndNamesItInErrors) {
    const apitoken::testing::TempDir dir;
    const auto path = dir / "apitokend.conf";
    write_file(path, "# site policy\nmax_lifetime = 90d\nworkers = 2\n");
    const Config config = load_config(path, true);
    EXPECT_EQ(config.max_lifetime, days{90});
    EXPECT_EQ(config.workers, 2U);

    write_file(path, "workers = 2\nworkers = x\n");
    EXPECT_EQ(load_error_of(path, false),
              path.string() + ":2: workers: set again (already set on line 1)");
}

TEST(ConfigLoad, UnreadablePathsGiveTheSystemsReason) {
    const apitoken::testing::TempDir dir;
    EXPECT_EQ(load_error_of(dir.path(), false),
              dir.path().string() + ": cannot read: Is a directory");

    const auto fifo = dir / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(load_error_of(fifo, false), fifo.string() + ": cannot read: not a regular file")
        << "a FIFO must be refused, not block the daemon's start";
}

TEST(ConfigLoad, FileWithoutReadPermissionGivesTheSystemsReason) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root reads files whatever their mode";
    }
    const apitoken::testing::TempDir dir;
    const auto locked = dir / "locked.conf";
    write_file(locked, "workers = 2\n");
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    EXPECT_EQ(load_error_of(locked, false), locked.string() + ": cannot read: Permission denied");
}

TEST(ConfigLoad, HugeFilesAndEndlessDevicesAreRefusedWithoutReadingThemWhole) {
    const apitoken::testing::TempDir dir;
    const auto big = dir / "big.conf";
    write_file(big, std::string(kMaxConfigFileBytes + 1, '\n'));
    EXPECT_EQ(load_error_of(big, false), big.string() + ": file is larger than 1 MiB");
    EXPECT_EQ(load_error_of("/dev/zero", false), "/dev/zero: file is larger than 1 MiB");
    EXPECT_EQ(load_config("/dev/null", true), Config{}) << "--config=/dev/null means no settings";
}

// systemd/apitokend.conf shows every key commented out ("#key = value") at its
// default. Uncommenting all of them must give exactly the defaults, so the
// file admins read cannot drift from the code.
TEST(ExampleConfig, ListsEveryKeyAtItsDefault) {
    const auto path =
        std::filesystem::path(__FILE__).parent_path() / "../../systemd/apitokend.conf";
    std::ifstream in(path);
    ASSERT_TRUE(in.is_open()) << path;
    std::string uncommented;
    std::size_t keys = 0;
    for (std::string line; std::getline(in, line);) {
        // Explanations are "# text"; settings are "#key = value".
        if (line.size() > 1 && line[0] == '#' && line[1] >= 'a' && line[1] <= 'z') {
            line.erase(0, 1);
            ++keys;
        }
        uncommented += line + "\n";
    }
    EXPECT_EQ(keys, 29U) << "every key, once (duplicates and unknown keys fail the parse)";
    EXPECT_EQ(parse_config(uncommented, path.string()), Config{});
}

} // namespace
} // namespace apitoken::daemon
