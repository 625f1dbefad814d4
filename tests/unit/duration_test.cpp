#include "contract/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace apitoken::daemon {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::weeks;

TEST(Duration, ParsesEachUnit) {
    EXPECT_EQ(parse_duration("90s"), seconds{90});
    EXPECT_EQ(parse_duration("15m"), minutes{15});
    EXPECT_EQ(parse_duration("12h"), hours{12});
    EXPECT_EQ(parse_duration("30d"), days{30});
    EXPECT_EQ(parse_duration("2w"), weeks{2});
    EXPECT_EQ(parse_duration("1s"), seconds{1});
    EXPECT_EQ(parse_duration("007d"), days{7}) << "leading zeros are still a number";
}

TEST(Duration, RefusesAnythingButOnePositiveNumberAndOneUnit) {
    for (const std::string_view text :
         {"",    "s",   "90",  "0s",    "0w",   "00d",  "-5m",   "+5m",
          " 5m", "5m ", "5 m", "1.5h",  "1,5h", "5mm",  "1h30m", "5x",
          "5M",  "5H",  "5D",  "0x10s", "five", "1e3s", "never", "d5"}) {
        EXPECT_EQ(parse_duration(text), std::nullopt) << "'" << text << "'";
    }
    using namespace std::string_view_literals;
    EXPECT_EQ(parse_duration("5\0m"sv), std::nullopt);
    EXPECT_EQ(parse_duration("5m\0"sv), std::nullopt);
}

TEST(Duration, RefusesMoreThanAHundredYearsWithoutOverflowing) {
    EXPECT_EQ(parse_duration("36525d"), kMaxDuration);
    EXPECT_EQ(parse_duration("3155760000s"), kMaxDuration);
    EXPECT_EQ(parse_duration("36526d"), std::nullopt);
    EXPECT_EQ(parse_duration("3155760001s"), std::nullopt);
    EXPECT_EQ(parse_duration("5217w"), weeks{5217});
    EXPECT_EQ(parse_duration("5218w"), std::nullopt);
    // Counts whose product with the unit wraps a signed or unsigned 64-bit
    // number to a small one (~3 and ~7 days), and counts beyond 64 bits.
    EXPECT_EQ(parse_duration("15250284452472w"), std::nullopt);
    EXPECT_EQ(parse_duration("30500568904944w"), std::nullopt);
    EXPECT_EQ(parse_duration("18446744073709551615s"), std::nullopt);
    EXPECT_EQ(parse_duration("18446744073709551616s"), std::nullopt);
    EXPECT_EQ(parse_duration("99999999999999999999999999999999d"), std::nullopt);
}

TEST(Duration, FormatsWithTheLargestUnitThatDividesExactly) {
    EXPECT_EQ(format_duration(days{30}), "30d");
    EXPECT_EQ(format_duration(seconds{90}), "90s");
    EXPECT_EQ(format_duration(days{14}), "2w");
    EXPECT_EQ(format_duration(seconds{60}), "1m");
    EXPECT_EQ(format_duration(minutes{90}), "90m");
    EXPECT_EQ(format_duration(hours{36}), "36h");
    EXPECT_EQ(format_duration(days{8}), "8d");
    EXPECT_EQ(format_duration(seconds{3601}), "3601s");
    EXPECT_EQ(format_duration(seconds{0}), "0s");
}

TEST(Duration, FormattedDurationsParseBackToTheSameValue) {
    for (const seconds value :
         {seconds{1}, seconds{59}, seconds{60}, seconds{61}, seconds{3600}, seconds{86'399},
          seconds{86'400}, seconds{604'800}, seconds{1'209'601}, seconds{kMaxDuration}}) {
        EXPECT_EQ(parse_duration(format_duration(value)), value) << value.count();
    }
}

} // namespace
} // namespace apitoken::daemon
