#include "jenkins/jenkins_dates.hpp"
#include "tests/jenkins/jenkins_test_support.hpp"

#include <gtest/gtest.h>

namespace apitoken::jenkins {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

TEST(JenkinsDates, ReadsJavaUtilDateAsXStreamWritesIt) {
    EXPECT_EQ(parse_xstream_date("2023-05-01 10:11:12.123 UTC"), 1682935872);
    // SimpleDateFormat "S" is unpadded milliseconds: ".5" is 5 ms.
    EXPECT_EQ(parse_xstream_date("2024-02-29 08:00:00.5 UTC"), 1709193600);
    EXPECT_EQ(parse_xstream_date("2024-02-29 08:00:00.50 UTC"), 1709193600);
    EXPECT_EQ(parse_xstream_date("2024-02-29 08:00:00 UTC"), 1709193600);
    EXPECT_EQ(parse_xstream_date("1970-01-01 00:00:00.0 UTC"), 0);
    EXPECT_EQ(parse_xstream_date("9999-12-31 23:59:59.999 UTC"), 253402300799);
}

TEST(JenkinsDates, RefusesOtherDateText) {
    for (const char* text :
         {"", "2023-05-01", "2023-05-01 10:11:12.123", "2023-05-01 10:11:12.123 CET",
          "2023-05-01T10:11:12.123Z", "2023-05-01 10:11:12.1234 UTC", "2023-05-01 10:11:12. UTC",
          "2023-02-29 10:11:12.1 UTC", "2023-13-01 10:11:12.1 UTC", "2023-05-01 24:00:00.0 UTC",
          "2023-05-01 10:60:00.0 UTC", "2023-05-01 10:11:60.0 UTC", "1969-12-31 23:59:59.0 UTC",
          "+10000-01-01 00:00:00.0 UTC", " 2023-05-01 10:11:12.1 UTC", "2023-05-01 10:11:12.1 UTC ",
          "2023-5-01 10:11:12.1 UTC", "2023-05-01  10:11:12.1 UTC", "2023-05-01 10:11:1x.1 UTC"}) {
        EXPECT_FALSE(parse_xstream_date(text).has_value()) << text;
    }
}

TEST(JenkinsDates, ReadsLocalDateAsXStreamWritesIt) {
    EXPECT_EQ(parse_local_date("2024-01-31"), (year_month_day{year{2024}, month{1}, day{31}}));
    EXPECT_EQ(parse_local_date("2024-02-29"), (year_month_day{year{2024}, month{2}, day{29}}));
    for (const char* text : {"", "2023-02-29", "2024-01-31 ", "2024-1-31", "20240131",
                             "+10000-01-01", "2024-01-31T00:00", "1969-12-31", "2024-00-10"}) {
        EXPECT_FALSE(parse_local_date(text).has_value()) << text;
    }
}

TEST(JenkinsDates, ExpiryDayEndsAtTheNextLocalMidnight) {
    const year_month_day last_day{year{2024}, month{1}, day{31}};
    {
        const test::LocalZone zone("UTC");
        EXPECT_EQ(end_of_local_day(last_day), 1706745600); // 2024-02-01 00:00 UTC
    }
    {
        const test::LocalZone zone("Europe/Berlin");
        EXPECT_EQ(end_of_local_day(last_day), 1706745600 - 3600);
    }
    {
        // The day before the switch to daylight saving time: midnight EST.
        const test::LocalZone zone("America/New_York");
        EXPECT_EQ(end_of_local_day(year_month_day{year{2024}, month{3}, day{9}}),
                  1710028800 + 5 * 3600);
        // A day of 23 hours ends at midnight EDT.
        EXPECT_EQ(end_of_local_day(year_month_day{year{2024}, month{3}, day{10}}),
                  1710115200 + 4 * 3600);
    }
}

} // namespace
} // namespace apitoken::jenkins
