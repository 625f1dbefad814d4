// Writes the seeds that cannot be typed by hand: valid tokens (random secret,
// right CRC32) and encoded records. Run once; its output is checked in under
// corpus/. Usage: apitoken-fuzz-make-seeds CORPUS_DIR
#include "store/record_codec.hpp"
#include "store/token_format.hpp"
#include "tests/support/record_fixture.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

using namespace apitoken::store;

void write_seed(const std::filesystem::path& path, std::string_view bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        static_cast<void>(std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]));
        return 2;
    }
    const std::filesystem::path corpus = argv[1];

    for (int i = 0; i < 3; ++i) {
        const GeneratedToken token = generate_token();
        write_seed(corpus / "token_parse_fuzzer" / ("valid-token-" + std::to_string(i)),
                   {token.text.data(), token.text.size()});
    }

    const std::filesystem::path records = corpus / "record_decode_fuzzer";
    const TokenRecord full = apitoken::testing::full_record();
    write_seed(records / "full-record", encode_record(full));
    TokenRecord minimal;
    minimal.id = full.id;
    minimal.user = "bob";
    minimal.uid = 1001;
    minimal.name = "t";
    minimal.created = full.created;
    minimal.hash = full.hash;
    write_seed(records / "minimal-record", encode_record(minimal));
    TokenRecord many_services = full;
    many_services.services = {"sshd", "login", "su", "sudo", "vsftpd", "dovecot", "cups"};
    many_services.expires.reset();
    write_seed(records / "many-services-record", encode_record(many_services));
    TokenRecord many_sources = full;
    for (std::size_t i = many_sources.recent_sources.size(); i < kMaxRecentSources; ++i) {
        auto source = full.recent_sources.front();
        source.rhost = "198.51.100." + std::to_string(i);
        many_sources.recent_sources.push_back(source);
    }
    many_sources.rotated_to.reset();
    many_sources.grace_until.reset();
    write_seed(records / "many-recent-sources-record", encode_record(many_sources));
    // What stores of schema 1 and 2 hold (record format 1).
    write_seed(records / "format1-full-record", apitoken::testing::format1_record_bytes(full));
    write_seed(records / "format1-minimal-record",
               apitoken::testing::format1_record_bytes(minimal));
    return 0;
}
