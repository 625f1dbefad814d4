#include "cli/time_text.hpp"
#include "ipc/bus_api.hpp"

#include <gtest/gtest.h>

namespace apitoken::cli {
namespace {

constexpr std::int64_t kNow = 1'800'000'000; // 2027-01-15T08:00:00Z

std::optional<std::int64_t> parse(std::string_view text) {
    std::string error;
    return parse_expiry(text, kNow, error);
}

TEST(ParseExpiry, DurationsRfc3339AndNever) {
    EXPECT_EQ(parse("90d"), kNow + 90L * 86400);
    EXPECT_EQ(parse("12h"), kNow + 12L * 3600);
    EXPECT_EQ(parse("never"), ipc::kExpiresNever);
    EXPECT_EQ(parse("2027-06-01T12:00:00Z"), 1811851200);
    EXPECT_EQ(parse("2027-06-01T14:00:00+02:00"), 1811851200);
    EXPECT_EQ(parse("2027-06-01T12:00:00.250Z"), 1811851200);
}

TEST(ParseExpiry, RefusesSignsEmptyFractionsAndThePast) {
    for (const char* bad :
         {"2027-06-01T-1:00:00Z", "2027-06-01T12:-1:00Z", "2027-06-01T12:00:-1Z",
          "2027-06-01T12:00:00+-1:00", "2027-06-01T12:00:00+01:-1", "2027-06-01T12:00:00.Z",
          "2027-06-01T24:00:00Z", "2027-02-30", "soon", "", "-1d", "2001-01-01"}) {
        std::string error;
        EXPECT_FALSE(parse_expiry(bad, kNow, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
}

TEST(TimeText, Rfc3339AndRelative) {
    EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339(1811851200), "2027-06-01T12:00:00Z");
    EXPECT_EQ(relative_time(kNow - 3L * 86400, kNow), "3 days ago");
    EXPECT_EQ(relative_time(kNow + 29L * 86400, kNow), "in 29 days");
    EXPECT_EQ(relative_time(kNow - 30, kNow), "just now");
    EXPECT_EQ(expiry_text(0, kNow), "never");
    EXPECT_EQ(expiry_text(kNow - 1, kNow), "expired");
}

TEST(TimeText, ExactSpans) {
    EXPECT_EQ(exact_span_text(90L * 86400), "90 days");
    EXPECT_EQ(exact_span_text(86400), "1 day");
    EXPECT_EQ(exact_span_text(12L * 3600), "12 hours");
    EXPECT_EQ(exact_span_text(36L * 3600), "36 hours") << "not 1 day";
    EXPECT_EQ(exact_span_text(90L * 60), "90 minutes");
    EXPECT_EQ(exact_span_text(45), "45 seconds");
}

TEST(TimeText, LocalTimeToTheMinute) {
    const std::string text = local_time_text(1811851200);
    EXPECT_EQ(text.size(), 16U) << text;
    EXPECT_EQ(text.substr(0, 8), "2027-06-") << text;
    EXPECT_EQ(text[10], ' ') << text;
    EXPECT_EQ(text[13], ':') << text;
}

TEST(ParseSpan, DurationsAndZeroWhereAllowed) {
    std::string error;
    EXPECT_EQ(parse_span("90d", "--unused", false, error), 90L * 86400);
    EXPECT_EQ(parse_span("45s", "--grace", true, error), 45);
    EXPECT_EQ(parse_span("0", "--grace", true, error), 0);
    EXPECT_TRUE(error.empty()) << error;
    for (const char* bad : {"0", "", "-1d", "1.5h", "1h30m", "soon", "never", "90"}) {
        error.clear();
        EXPECT_FALSE(parse_span(bad, "--unused", false, error)) << bad;
        EXPECT_TRUE(error.starts_with("--unused: ")) << error;
        EXPECT_NE(error.find("not a duration"), std::string::npos) << error;
    }
    error.clear();
    EXPECT_FALSE(parse_span("0s", "--grace", true, error)) << "zero is written 0";
    EXPECT_NE(error.find("or 0"), std::string::npos) << error;
}

} // namespace
} // namespace apitoken::cli
