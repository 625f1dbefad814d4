// Writes the seeds that cannot be typed by hand: valid tokens (random secret,
// right CRC32) and encoded records. Run once; its output is checked in under
// corpus/. Usage: apitoken-fuzz-make-seeds CORPUS_DIR
#include "store/record_codec.hpp"
#include "store/token_format.hpp"

#include <chrono>
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

TokenRecord full_record() {
    TokenRecord r;
    r.id = TokenId(TokenId::Bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab});
    r.user = "alice";
    r.uid = 1000;
    r.name = "ci-upload";
    r.created = TimePoint{std::chrono::seconds{1'800'000'000}};
    r.expires = TimePoint{std::chrono::seconds{1'900'000'000}};
    r.services = {"sshd", "vsftpd"};
    r.hash = "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
    r.use_count = 42;
    r.last_used = TimePoint{std::chrono::seconds{1'850'000'000}};
    r.last_service = "sshd";
    r.last_rhost = "192.0.2.7";
    return r;
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

    const TokenRecord full = full_record();
    write_seed(corpus / "record_decode_fuzzer" / "full-record", encode_record(full));
    TokenRecord minimal;
    minimal.id = full.id;
    minimal.user = "bob";
    minimal.uid = 1001;
    minimal.name = "t";
    minimal.created = full.created;
    minimal.hash = full.hash;
    write_seed(corpus / "record_decode_fuzzer" / "minimal-record", encode_record(minimal));
    TokenRecord many_services = full;
    many_services.services = {"sshd", "login", "su", "sudo", "vsftpd", "dovecot", "cups"};
    many_services.expires.reset();
    write_seed(corpus / "record_decode_fuzzer" / "many-services-record",
               encode_record(many_services));
    return 0;
}
