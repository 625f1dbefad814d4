#pragma once

// The token search over bytes in memory: what apitokenctl scan does with
// each read. Vectorised with the compiler's vector extensions (portable
// across architectures), so that a scan keeps up with read().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace apitoken::cli {

// Finds the checksum-valid tokens of one input handed over in pieces.
// A token counts wherever it stands, except when another lowercase hex digit
// follows it directly (a longer hex string is not a token); the checksum
// leaves no false positives.
class TokenFinder {
public:
    // Each token: its text (valid only during the call), its line and
    // column (1-based; the column in bytes).
    using Found =
        std::function<void(std::string_view token, std::uint64_t line, std::uint64_t column)>;

    // `data`: the bytes the last call asked to carry, then the new ones.
    // `end_of_input`: nothing follows. Returns how many bytes at the end of
    // `data` to hand over again at the start of the next call (at most
    // kTokenLength; 0 at the end of input): a token split between two reads
    // is found whole.
    std::size_t search(std::string_view data, bool end_of_input, const Found& found);
    // For the next input.
    void reset() noexcept { *this = TokenFinder(); }

private:
    // Counts the lines of data[from, to) into line_ and line_start_.
    void count_lines(std::string_view data, std::size_t from, std::size_t to) noexcept;

    std::uint64_t line_ = 1;
    std::uint64_t line_start_ = 0; // offset in the input of the current line
    std::uint64_t offset_ = 0;     // offset in the input of data[0]
};

// `text` with each token in it (as TokenFinder finds them) shown as
// "atk_<id>…": for paths, which are printed and journaled (a file may be
// named after the token it holds).
[[nodiscard]] std::string without_secrets(std::string_view text);

// Where "atk_" first occurs in data[from, size), or npos.
[[nodiscard]] std::size_t find_token_prefix(std::string_view data, std::size_t from) noexcept;
// How many '\n' are in data.
[[nodiscard]] std::size_t count_newlines(std::string_view data) noexcept;

} // namespace apitoken::cli
