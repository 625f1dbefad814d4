// Prints N freshly generated tokens, one a line, made by the store's own
// generator (valid ids, secrets and checksums; stored nowhere): the data the
// scan benchmark sprinkles into its text, and the docs test's real token.
//   apitoken-make-tokens [N]   (default 1)
#include "store/token_format.hpp"

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    try {
        const unsigned long count = argc > 1 ? std::stoul(argv[1]) : 1;
        for (unsigned long i = 0; i < count; ++i) {
            const auto token = apitoken::store::generate_token();
            if (std::fwrite(token.text.data(), 1, token.text.size(), stdout) != token.text.size() ||
                std::fputc('\n', stdout) == EOF) {
                return 1;
            }
        }
        return std::fflush(stdout) == 0 ? 0 : 1;
    } catch (const std::exception& error) {
        std::cerr << "apitoken-make-tokens: " << error.what() << '\n';
        return 2;
    }
}
