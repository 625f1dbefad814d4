// Measures the store side of one authentication against its physical limits:
//  - design.md promises "one store lookup by id and one Argon2id verify", so
//    our verify and the whole store-side check should cost what libsodium's
//    bare crypto_pwhash_str_verify costs, within 5 %;
//  - "whatever the number of tokens": a lookup in a store of a million tokens
//    should cost at most twice one in a store of a thousand (a B-tree lookup
//    grows with log n; a scan would grow a thousandfold).
// Prints one table and exits 0 whatever the figures (a missed target is news,
// not a build failure); see --help.
#include "bench/store_fill.hpp"
#include "store/token_format.hpp"
#include "store/token_hash.hpp"
#include "store/token_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace apitoken::store;
using apitoken::bench::kFillChunk;
using apitoken::bench::kTokensPerUser;
using Clock = std::chrono::steady_clock;

// ---- configuration ---------------------------------------------------------

struct BenchConfig {
    std::size_t small_store = 1'000;
    std::size_t large_store = 1'000'000;
    int repetitions = 7;
    std::size_t verifies_per_repetition = 2'000;
    std::size_t lookups_per_repetition = 100'000;
    // Verifies of ours and raw alternate in blocks of this many.
    std::size_t verify_block = 100;
};

// Small enough to run in a few seconds under ASan+UBSan as a ctest smoke test.
BenchConfig quick_config() {
    return {1'000, 20'000, 3, 300, 10'000, 100};
}

constexpr double kVerifyTarget = 1.05;
// log2(1M) / log2(1k) = 2: what the comparisons alone cost. Cache and TLB
// misses, which grow once the store outgrows the CPU caches, come on top.
constexpr double kLookupTarget = 2.0;

void print_usage(std::ostream& out) {
    out << "usage: apitoken-store-bench [--quick] [--help]\n"
           "\n"
           "Times the store side of one authentication against its physical limits\n"
           "and prints a table of ratios with their targets:\n"
           "  Argon2id verify          verify_token vs bare crypto_pwhash_str_verify\n"
           "  parse + lookup + verify  the whole store-side check vs bare verify\n"
           "  lookup by id             TokenStore::find, 1M tokens vs 1k tokens\n"
           "Stores are built in a fresh directory under $TMPDIR (or /tmp) and\n"
           "removed afterwards. Exit status is 0 whether targets are met or not.\n"
           "\n"
           "  --quick  1k vs 20k tokens and fewer repetitions (a smoke test)\n"
           "  --help   this text\n";
}

// nullopt after printing help or a usage error; `exit_code` says which.
std::optional<BenchConfig> parse_arguments(int argc, char** argv, int& exit_code) {
    BenchConfig config;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (const auto arg : args) {
        if (arg == "--quick") {
            config = quick_config();
        } else if (arg == "--help" || arg == "-h") {
            print_usage(std::cout);
            exit_code = EXIT_SUCCESS;
            return std::nullopt;
        } else {
            std::cerr << "apitoken-store-bench: unknown argument " << arg << "\n\n";
            print_usage(std::cerr);
            exit_code = 2;
            return std::nullopt;
        }
    }
    return config;
}

// ---- measuring -------------------------------------------------------------

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double nanoseconds(Clock::duration elapsed) {
    return std::chrono::duration<double, std::nano>(elapsed).count();
}

double seconds(Clock::duration elapsed) {
    return std::chrono::duration<double>(elapsed).count();
}

// Total time of fn(i) for i in [begin, end), in ns. Every call must succeed:
// a benchmark that silently timed failures (a missing id, a wrong hash)
// would report a fast path that authentication never takes.
template <typename Fn>
double time_calls_ns(std::size_t begin, std::size_t end, Fn& fn) {
    std::size_t failed = 0;
    const auto start = Clock::now();
    for (std::size_t i = begin; i < end; ++i) {
        failed += fn(i) ? 0U : 1U;
    }
    const auto elapsed = Clock::now() - start;
    if (failed != 0) {
        throw std::runtime_error("a benchmarked call failed; the figures would be meaningless");
    }
    return nanoseconds(elapsed);
}

// How two contenders are timed against each other: `repetitions` of `calls`
// calls each, run in alternating blocks of `block` calls.
struct Schedule {
    int repetitions = 0;
    std::size_t calls = 0;
    std::size_t block = 0;
};

// Median time per call of each contender.
struct MedianPair {
    double first_ns = 0;
    double second_ns = 0;
};

// One repetition: both contenders, block by block, the one going first
// swapped every block. This machine's speed drifts by 20 % over seconds (a
// shared VM), so timing one contender's whole repetition after the other's
// would measure the drift; short alternating blocks make it hit both alike.
template <typename First, typename Second>
MedianPair one_repetition(const Schedule& schedule, int rep, First& first, Second& second) {
    MedianPair total;
    for (std::size_t begin = 0, block = 0; begin < schedule.calls;
         begin += schedule.block, ++block) {
        const std::size_t end = std::min(begin + schedule.block, schedule.calls);
        const bool first_goes_first = (static_cast<std::size_t>(rep) + block) % 2 == 0;
        if (first_goes_first) {
            total.first_ns += time_calls_ns(begin, end, first);
        }
        total.second_ns += time_calls_ns(begin, end, second);
        if (!first_goes_first) {
            total.first_ns += time_calls_ns(begin, end, first);
        }
    }
    const auto calls = static_cast<double>(schedule.calls);
    return {total.first_ns / calls, total.second_ns / calls};
}

// Medians over the repetitions, after one discarded warm-up round (page
// cache, mapped pages, CPU caches, branch predictors).
template <typename First, typename Second>
MedianPair interleaved_medians(const Schedule& schedule, First&& first, Second&& second) {
    time_calls_ns(0, schedule.calls, first);
    time_calls_ns(0, schedule.calls, second);
    std::vector<double> first_ns;
    std::vector<double> second_ns;
    for (int rep = 0; rep < schedule.repetitions; ++rep) {
        const MedianPair sample = one_repetition(schedule, rep, first, second);
        first_ns.push_back(sample.first_ns);
        second_ns.push_back(sample.second_ns);
    }
    return {median(first_ns), median(second_ns)};
}

// ---- the stores ------------------------------------------------------------

// The one real token of the run, and its owner. Hashing a million tokens
// would take minutes and measure Argon2, not the store, so every record
// shares its hash (bench/store_fill, as the auth benchmark's stores do).
struct BenchToken {
    apitoken::bench::RealToken token{"bench", 10'000};
    std::string hash = hash_token(text(), HashParams::defaults());

    [[nodiscard]] std::string_view text() const noexcept { return token.token.text.view(); }
};

struct FilledStore {
    TokenStore store;
    std::vector<TokenId> ids;
    double fill_seconds = 0;
};

FilledStore fill_store(const std::filesystem::path& state_dir, std::size_t count,
                       const BenchToken& real) {
    FilledStore filled{TokenStore(apitoken::bench::fill_store_options(state_dir)),
                       apitoken::bench::distinct_random_ids(count, {real.token.token.id})};
    const auto start = Clock::now();
    apitoken::bench::insert_tokens(filled.store, filled.ids, {{&real.token, real.hash}});
    filled.fill_seconds = seconds(Clock::now() - start);
    if (filled.store.count() != count) {
        throw std::runtime_error("the store holds " + std::to_string(filled.store.count()) +
                                 " tokens after inserting " + std::to_string(count));
    }
    return filled;
}

// Uniformly drawn existing ids, drawn before timing so that the draw is not
// timed. A fixed seed makes runs comparable.
std::vector<TokenId> lookup_sequence(const std::vector<TokenId>& ids, std::size_t length) {
    std::mt19937_64 rng(20'261'101);
    std::uniform_int_distribution<std::size_t> pick(0, ids.size() - 1);
    std::vector<TokenId> sequence;
    sequence.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
        sequence.push_back(ids[pick(rng)]);
    }
    return sequence;
}

// Lookups in the small and the large store, a whole repetition at a time:
// alternating in short blocks would make each block of the small store start
// with caches just flushed by the large one.
MedianPair lookup_medians(const FilledStore& small, const FilledStore& large,
                          const BenchConfig& config) {
    const std::size_t calls = config.lookups_per_repetition;
    const auto small_ids = lookup_sequence(small.ids, calls);
    const auto large_ids = lookup_sequence(large.ids, calls);
    return interleaved_medians(
        Schedule{config.repetitions, calls, calls},
        [&](std::size_t i) { return small.store.find(small_ids[i]).has_value(); },
        [&](std::size_t i) { return large.store.find(large_ids[i]).has_value(); });
}

// ---- verify rows -----------------------------------------------------------

Schedule verify_schedule(const BenchConfig& config) {
    return {config.repetitions, config.verifies_per_repetition, config.verify_block};
}

// The physical limit: libsodium alone, on the same hash and token.
bool raw_verify(const BenchToken& real) {
    const std::string_view text = real.text();
    return crypto_pwhash_str_verify(real.hash.c_str(), text.data(), text.size()) == 0;
}

// first: ours, second: raw.
MedianPair verify_vs_raw(const BenchToken& real, const BenchConfig& config) {
    return interleaved_medians(
        verify_schedule(config), [&](std::size_t) { return verify_token(real.hash, real.text()); },
        [&](std::size_t) { return raw_verify(real); });
}

// What the daemon does with a token it is given: reject junk without touching
// the store, look the id up, check the owner, verify the hash.
// first: ours, second: raw.
MedianPair full_check_vs_raw(const FilledStore& filled, const BenchToken& real,
                             const BenchConfig& config) {
    const std::string_view text = real.text();
    const std::string& owner = real.token.user;
    return interleaved_medians(
        verify_schedule(config),
        [&](std::size_t) {
            const auto id = parse_token(text);
            const auto record = id ? filled.store.find(*id) : std::nullopt;
            return record && record->user == owner && verify_token(record->hash, text);
        },
        [&](std::size_t) { return raw_verify(real); });
}

// ---- report ----------------------------------------------------------------

std::string fixed(double value, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << value;
    return out.str();
}

// 1000 -> "1k", 1000000 -> "1M": short labels for store sizes.
std::string count_label(std::size_t count) {
    if (count >= 1'000'000 && count % 1'000'000 == 0) {
        return std::to_string(count / 1'000'000) + "M";
    }
    if (count >= 1'000 && count % 1'000 == 0) {
        return std::to_string(count / 1'000) + "k";
    }
    return std::to_string(count);
}

struct Row {
    std::string label;
    std::string figures;
    double ratio = 0;
    double target = 0;

    [[nodiscard]] bool met() const { return ratio <= target; }
};

Row verify_row(std::string label, const MedianPair& ours_raw) {
    return {std::move(label),
            "ours " + fixed(ours_raw.first_ns / 1'000, 1) + " us, raw " +
                fixed(ours_raw.second_ns / 1'000, 1) + " us",
            ours_raw.first_ns / ours_raw.second_ns, kVerifyTarget};
}

Row lookup_row(const FilledStore& small, const FilledStore& large, const MedianPair& ns) {
    return {"lookup by id",
            count_label(small.ids.size()) + ": " + fixed(ns.first_ns, 0) + " ns, " +
                count_label(large.ids.size()) + ": " + fixed(ns.second_ns, 0) + " ns",
            ns.second_ns / ns.first_ns, kLookupTarget};
}

void print_table(const std::vector<Row>& rows) {
    std::cout << std::left << std::setw(25) << "row" << std::setw(36) << "figures (median)"
              << std::setw(7) << "ratio" << std::setw(9) << "target"
              << "result\n";
    for (const auto& row : rows) {
        std::cout << std::setw(25) << row.label << std::setw(36) << row.figures << std::setw(7)
                  << fixed(row.ratio, 3) << std::setw(9) << ("<= " + fixed(row.target, 2))
                  << (row.met() ? "ok" : "MISSED") << '\n';
    }
}

void print_summary(const std::vector<Row>& rows) {
    std::string missed;
    for (const auto& row : rows) {
        if (!row.met()) {
            missed += (missed.empty() ? "" : ", ") + row.label;
        }
    }
    if (missed.empty()) {
        std::cout << "summary: all " << rows.size() << " targets met\n";
    } else {
        std::cout << "summary: targets MISSED: " << missed << '\n';
    }
}

void print_fill(const FilledStore& filled) {
    const auto count = static_cast<double>(filled.ids.size());
    const auto bytes = std::filesystem::file_size(filled.store.state_dir() / "data.mdb");
    std::cout << "filled " << std::setw(5) << count_label(filled.ids.size()) << " tokens in "
              << fixed(filled.fill_seconds, 2) << " s ("
              << fixed(count / filled.fill_seconds / 1'000, 1) << "k tokens/s, " << kTokensPerUser
              << " per user, batches of " << kFillChunk << "; data.mdb " << (bytes >> 20U)
              << " MiB)\n";
}

void print_header(const BenchConfig& config) {
    const HashParams params = HashParams::defaults();
    std::cout << "apitoken-store-bench: Argon2id t=" << params.opslimit
              << " m=" << (params.memlimit >> 10U) << " KiB (HashParams::defaults); medians of "
              << config.repetitions << " repetitions of " << config.verifies_per_repetition
              << " verifies / " << config.lookups_per_repetition << " lookups\n";
}

int run(const BenchConfig& config) {
    print_header(config);
    const apitoken::testing::TempDir temp("apitoken-bench");
    const BenchToken real;

    const FilledStore small = fill_store(temp.path() / "small", config.small_store, real);
    print_fill(small);
    const FilledStore large = fill_store(temp.path() / "large", config.large_store, real);
    print_fill(large);

    const std::vector<Row> rows{
        verify_row("Argon2id verify", verify_vs_raw(real, config)),
        verify_row("parse + lookup + verify", full_check_vs_raw(large, real, config)),
        lookup_row(small, large, lookup_medians(small, large, config)),
    };
    std::cout << '\n';
    print_table(rows);
    print_summary(rows);
    return EXIT_SUCCESS;
}

} // namespace

int main(int argc, char** argv) {
    try {
        int exit_code = EXIT_SUCCESS;
        const auto config = parse_arguments(argc, argv, exit_code);
        return config ? run(*config) : exit_code;
    } catch (const std::exception& error) {
        std::cerr << "apitoken-store-bench: " << error.what() << '\n';
        return EXIT_FAILURE;
    }
}
