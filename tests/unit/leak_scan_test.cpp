// apitokenctl scan's engine: the vectorised search, tokens split across
// reads, lines and columns, what is not a token, and the walk (binary files,
// .git/objects, symbolic links, standard input, unreadable paths).
#include "cli/leak_scan.hpp"
#include "cli/token_search.hpp"
#include "contract/token_checksum.hpp"
#include "store/token_format.hpp"
#include "tests/support/temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace apitoken::cli {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string new_token() {
    return std::string(store::generate_token().text.view());
}

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
}

struct Problem {
    std::string path;
    std::string reason;
};

struct Scan {
    std::vector<Sighting> sightings;
    std::vector<Problem> problems;
    bool had_errors = false;
};

Scan scan(const std::vector<std::string>& paths, ScanSettings settings = {}) {
    Scan result;
    settings.on_error = [&](std::string_view path, std::string_view reason) {
        result.problems.push_back({std::string(path), std::string(reason)});
    };
    LeakScanner scanner(std::move(settings));
    for (const auto& path : paths) {
        scanner.scan_path(path);
    }
    result.sightings = scanner.take_sightings();
    result.had_errors = scanner.had_errors();
    return result;
}

Scan scan_text(const std::string& text, std::size_t read_size = std::size_t{1} << 20) {
    const TempDir dir("apitoken-scan");
    write_file(dir / "f", text);
    ScanSettings settings;
    settings.read_size = read_size;
    settings.keep_tokens = true;
    return scan({(dir / "f").string()}, std::move(settings));
}

std::vector<std::string> ids_of(const std::vector<Sighting>& sightings) {
    std::vector<std::string> ids;
    ids.reserve(sightings.size());
    for (const auto& s : sightings) {
        ids.push_back(s.id);
    }
    return ids;
}

TEST(TokenSearch, FindsThePrefixAtEveryOffsetAndNothingElse) {
    for (std::size_t size = 4; size < 80; ++size) {
        for (std::size_t at = 0; at + 4 <= size; ++at) {
            std::string data(size, 'a'); // 'a' everywhere: every position is a first candidate
            data.replace(at, 4, "atk_");
            EXPECT_EQ(find_token_prefix(data, 0), at) << size << " " << at;
            EXPECT_EQ(find_token_prefix(data, at + 1), std::string_view::npos) << size << " " << at;
        }
    }
    EXPECT_EQ(find_token_prefix("atk", 0), std::string_view::npos);
    EXPECT_EQ(find_token_prefix("", 0), std::string_view::npos);
    EXPECT_EQ(find_token_prefix("a__k_atk-_atk_", 0), 10U);
    EXPECT_EQ(find_token_prefix("axx_ayk_atx_aak_xxxxxxxxxxxxxxxxxxxxxxxx", 0),
              std::string_view::npos);
    EXPECT_EQ(find_token_prefix("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxatk_", 40),
              std::string_view::npos);
}

TEST(TokenSearch, CountsNewlinesLikeStdCount) {
    std::mt19937 random(42); // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible
    for (std::size_t size : {0U, 1U, 15U, 16U, 17U, 255U * 16U, 255U * 16U + 1U, 100'000U}) {
        std::string data(size, 'x');
        for (auto& c : data) {
            c = (random() % 3 == 0) ? '\n' : 'y';
        }
        EXPECT_EQ(count_newlines(data),
                  static_cast<std::size_t>(std::count(data.begin(), data.end(), '\n')))
            << size;
    }
    EXPECT_EQ(count_newlines(std::string(100'000, '\n')), 100'000U) << "lanes must not overflow";
}

TEST(TokenSearch, PathsAreShownWithoutSecrets) {
    const std::string token = new_token();
    const std::string shown_token = token.substr(0, 16) + "\u2026";
    EXPECT_EQ(without_secrets("plain/path.txt"), "plain/path.txt");
    EXPECT_EQ(without_secrets("backup-" + token + ".env"), "backup-" + shown_token + ".env");
    EXPECT_EQ(without_secrets(token + "/" + token), shown_token + "/" + shown_token);
    EXPECT_EQ(without_secrets(token + "0"), token + "0") << "not a token: longer hex";
    std::string bad = token;
    bad[55] = bad[55] == '0' ? '1' : '0';
    EXPECT_EQ(without_secrets(bad), bad);
}

TEST(LeakScan, FindsATokenSplitAcrossEveryReadBoundary) {
    const std::string token = new_token();
    const std::string text = "line one\nkey = " + token + "\nlast\n";
    for (std::size_t read_size = 1; read_size <= text.size() + 1; ++read_size) {
        const Scan found = scan_text(text, read_size);
        ASSERT_EQ(found.sightings.size(), 1U) << "read size " << read_size;
        const Sighting& s = found.sightings[0];
        EXPECT_EQ(s.line, 2U) << "read size " << read_size;
        EXPECT_EQ(s.column, 7U) << "read size " << read_size;
        EXPECT_EQ(s.token.view(), token);
        EXPECT_EQ(s.id, token.substr(4, 12));
    }
}

TEST(LeakScan, LinesAndColumnsAreOneBasedAndCountBytes) {
    const std::string a = new_token();
    const std::string b = new_token();
    const std::string c = new_token();
    // "é" is two bytes; CRLF ends a line like LF.
    const std::string text = a + "\r\n\n  é" + b + " " + c + "\n" + a;
    for (const std::size_t read_size : {std::size_t{7}, std::size_t{60}, std::size_t{1} << 20}) {
        const Scan found = scan_text(text, read_size);
        ASSERT_EQ(found.sightings.size(), 4U);
        const auto& s = found.sightings;
        EXPECT_EQ(std::make_pair(s[0].line, s[0].column), std::make_pair(1UL, 1UL));
        EXPECT_EQ(std::make_pair(s[1].line, s[1].column), std::make_pair(3UL, 5UL));
        EXPECT_EQ(std::make_pair(s[2].line, s[2].column), std::make_pair(3UL, 62UL));
        EXPECT_EQ(std::make_pair(s[3].line, s[3].column), std::make_pair(4UL, 1UL));
        EXPECT_EQ(ids_of(s), (std::vector<std::string>{a.substr(4, 12), b.substr(4, 12),
                                                       c.substr(4, 12), a.substr(4, 12)}));
    }
}

TEST(LeakScan, OnlyWholeChecksummedLowercaseTokensCount) {
    const std::string token = new_token();
    std::string bad_checksum = token;
    bad_checksum[55] = bad_checksum[55] == '0' ? '1' : '0';
    std::string upper = token;
    std::transform(upper.begin() + 4, upper.end(), upper.begin() + 4,
                   [](char ch) { return static_cast<char>(std::toupper(ch)); });
    const std::string lines[] = {
        bad_checksum,
        upper,
        "ATK_" + token.substr(4),
        token + "0",              // too long: 53 hex digits
        token + "f",              //
        token.substr(0, 55),      // too short
        "atk_" + token.substr(5), // too short, and the next line's text follows
        "atk_" + std::string(52, 'z'),
    };
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    EXPECT_TRUE(scan_text(text).sightings.empty());
    EXPECT_TRUE(scan_text(text, 13).sightings.empty());

    // Anything may stand before it; after it anything but another hex digit.
    const std::string found = "x" + token + "g\n_" + token + "_\natk_" + token + "G\n" + token;
    EXPECT_EQ(scan_text(found).sightings.size(), 4U);
    EXPECT_EQ(scan_text(found, 5).sightings.size(), 4U);
}

TEST(LeakScan, ATokenInAFileNameIsNeverReported) {
    const TempDir dir("apitoken-scan");
    const std::string token = new_token();
    write_file(dir / ("dump-" + token) / "f", token);
    write_file(dir / ("gone-" + token), token);
    fs::permissions(dir / ("gone-" + token), fs::perms::none);
    Scan found = scan({dir.path().string(), (dir / ("missing-" + token)).string()});
    ASSERT_FALSE(found.sightings.empty());
    for (const auto& s : found.sightings) {
        EXPECT_EQ(s.path.find(token.substr(16)), std::string::npos) << s.path;
    }
    ASSERT_FALSE(found.problems.empty());
    for (const auto& p : found.problems) {
        EXPECT_EQ(p.path.find(token.substr(16)), std::string::npos) << p.path;
    }
}

TEST(LeakScan, KeepsTheTokenOnlyWhenAsked) {
    const TempDir dir("apitoken-scan");
    write_file(dir / "f", new_token());
    const Scan found = scan({(dir / "f").string()});
    ASSERT_EQ(found.sightings.size(), 1U);
    EXPECT_TRUE(found.sightings[0].token.empty());
}

TEST(LeakScan, WalksDirectoriesInOrderSkippingBinaryFilesAndGitObjects) {
    const TempDir dir("apitoken-scan");
    const std::string token = new_token();
    write_file(dir / "b" / "deep" / "er" / "f.txt", token);
    write_file(dir / "a.txt", "x\n" + token);
    write_file(dir / "binary", std::string("\0", 1) + token);
    // A NUL after the first read does not make the file binary.
    write_file(dir / "late-nul", token + std::string(2 << 20, 'x') + std::string("\0", 1) + token);
    write_file(dir / "repo" / ".git" / "objects" / "ab" / "cdef", token);
    write_file(dir / "repo" / ".git" / "COMMIT_EDITMSG", token);
    write_file(dir / "repo" / "objects" / "x", token); // not under .git

    const auto paths = [](const Scan& s) {
        std::vector<std::string> out;
        for (const auto& sighting : s.sightings) {
            out.push_back(sighting.path);
        }
        return out;
    };
    const std::string root = dir.path().string();
    const Scan found = scan({root});
    EXPECT_FALSE(found.had_errors);
    EXPECT_EQ(paths(found), (std::vector<std::string>{
                                root + "/a.txt",
                                root + "/b/deep/er/f.txt",
                                root + "/late-nul",
                                root + "/late-nul",
                                root + "/repo/.git/COMMIT_EDITMSG",
                                root + "/repo/objects/x",
                            }));
    ScanSettings with_objects;
    with_objects.git_objects = true;
    const Scan all = scan({root + "/"}, std::move(with_objects));
    EXPECT_EQ(all.sightings.size(), 7U);
    EXPECT_EQ(all.sightings[0].path, root + "/a.txt") << "no doubled slash";
    // A .git named on the command line has its objects skipped too.
    EXPECT_EQ(scan({root + "/repo/.git/"}).sightings.size(), 1U);
    EXPECT_EQ(scan({root + "/repo/.git/objects"}).sightings.size(), 1U) << "named: read";
    // Named on the command line, a binary file is skipped too.
    EXPECT_TRUE(scan({(dir / "binary").string()}).sightings.empty());
}

TEST(LeakScan, SymbolicLinksAreFollowedOnlyWhenNamed) {
    const TempDir dir("apitoken-scan");
    const TempDir elsewhere("apitoken-scan");
    write_file(elsewhere / "secret", new_token());
    fs::create_directories(dir / "d");
    fs::create_symlink(dir.path(), dir / "d" / "loop");     // a loop
    fs::create_symlink(".", dir / "self");                  // another
    fs::create_symlink(elsewhere / "secret", dir / "link"); // a file elsewhere
    fs::create_symlink(elsewhere.path(), dir / "dirlink");  // a directory elsewhere
    fs::create_symlink(dir / "nowhere", dir / "dangling");  //
    const Scan inside = scan({dir.path().string()});
    EXPECT_TRUE(inside.sightings.empty()) << "links met in a directory are not followed";
    EXPECT_FALSE(inside.had_errors);
    EXPECT_EQ(scan({(dir / "link").string()}).sightings.size(), 1U) << "named: followed";
    EXPECT_EQ(scan({(dir / "dirlink").string()}).sightings.size(), 1U) << "named: followed";
}

TEST(LeakScan, ReadsStandardInputAsDash) {
    const std::string token = new_token();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string text = "one\ntwo " + token + "\n";
    ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    const int saved = ::dup(STDIN_FILENO);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    const Scan found = scan({"-"});
    ::dup2(saved, STDIN_FILENO);
    ::close(saved);
    ASSERT_EQ(found.sightings.size(), 1U);
    EXPECT_EQ(found.sightings[0].path, kStandardInputName);
    EXPECT_EQ(found.sightings[0].line, 2U);
    EXPECT_EQ(found.sightings[0].column, 5U);
}

TEST(LeakScan, ReportsWhatItCannotReadAndGoesOn) {
    const TempDir dir("apitoken-scan");
    write_file(dir / "ok", new_token());
    const std::string missing = (dir / "missing").string();
    const Scan found = scan({missing, "/proc/self/mem", (dir / "ok").string()});
    EXPECT_TRUE(found.had_errors);
    ASSERT_EQ(found.problems.size(), 2U);
    EXPECT_EQ(found.problems[0].path, missing);
    EXPECT_EQ(found.problems[0].reason, "No such file or directory");
    EXPECT_EQ(found.problems[1].path, "/proc/self/mem");
    EXPECT_EQ(found.problems[1].reason, "Input/output error");
    EXPECT_EQ(found.sightings.size(), 1U) << "the scan went on";

    if (::geteuid() != 0) { // root reads anything
        write_file(dir / "d" / "closed", new_token());
        fs::permissions(dir / "d" / "closed", fs::perms::none);
        fs::create_directories(dir / "d" / "shut");
        fs::permissions(dir / "d" / "shut", fs::perms::none);
        const Scan denied = scan({(dir / "d").string()});
        ASSERT_EQ(denied.problems.size(), 2U);
        EXPECT_EQ(denied.problems[0].reason, "Permission denied");
        fs::permissions(dir / "d" / "shut", fs::perms::owner_all);
    }
}

TEST(LeakScan, FindsTokensInABigFileAcrossManyReads) {
    std::string text;
    std::vector<std::string> tokens;
    std::uint64_t lines = 0;
    for (int i = 0; i < 200; ++i) {
        text += std::string(static_cast<std::size_t>(5000 + i * 37), 'q') + "\n";
        ++lines;
        tokens.push_back(new_token());
        text += "token: " + tokens.back() + "\n";
        ++lines;
    }
    const Scan found = scan_text(text, 4096 + 3);
    ASSERT_EQ(found.sightings.size(), tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        EXPECT_EQ(found.sightings[i].token.view(), tokens[i]);
        EXPECT_EQ(found.sightings[i].line, 2 * i + 2);
        EXPECT_EQ(found.sightings[i].column, 8U);
    }
    EXPECT_EQ(lines, 400U);
}

} // namespace
} // namespace apitoken::cli
