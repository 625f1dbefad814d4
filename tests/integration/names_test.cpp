// Token names that could hide or reorder what an admin reads (bidirectional
// overrides, zero-width and other invisible, formatting or control
// characters): refused through the real bus at creation and rename, and,
// when an older version stored one, shown escaped by apitokenctl.
#include "store/record_codec.hpp"
#include "store/token_format.hpp"
#include "tests/integration/world_test.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace apitoken::testing {
namespace {

// These tests are about unterminated bidirectional overrides and isolates:
// their literals hold such characters on purpose.
// NOLINTBEGIN(misc-misleading-bidirectional)

using nlohmann::json;

constexpr std::string_view kRightToLeftOverride = "\u202E";

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

class NamesTest : public WorldTest {
protected:
    void SetUp() override {
        WorldTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        world->start_daemon();
    }

    ProcessResult ctl(std::vector<std::string> args) const {
        args.insert(args.begin(), APITOKEN_CTL);
        return world->run_as(world->alice, args);
    }

    json listed() const {
        const ProcessResult r = ctl({"list", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out).at("tokens");
    }

    // The id of a new token of alice's.
    std::string create(const std::string& name) const {
        const ProcessResult r = ctl({"create", name, "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out).at("id").get<std::string>();
    }

    // What an older version could store: the record's name replaced in the
    // LMDB file itself, behind the stopped daemon's back.
    void store_name_as_an_older_version_would(const std::string& id_hex,
                                              const std::string& name) const {
        ASSERT_EQ(world->stop_daemon(), 0);
        const auto id = store::TokenId::from_hex(id_hex);
        ASSERT_TRUE(id);
        MDB_env* env = nullptr;
        ASSERT_EQ(mdb_env_create(&env), 0);
        ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
        ASSERT_EQ(mdb_env_open(env, world->state_dir().c_str(), 0, 0600), 0);
        MDB_txn* txn = nullptr;
        ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
        MDB_dbi tokens = 0;
        ASSERT_EQ(mdb_dbi_open(txn, "tokens", 0, &tokens), 0);
        const std::string_view key_bytes = id->key();
        std::string key(key_bytes);
        MDB_val key_val{key.size(), key.data()};
        MDB_val value{};
        ASSERT_EQ(mdb_get(txn, tokens, &key_val, &value), 0);
        auto record = store::decode_record(
            *id, std::string_view(static_cast<const char*>(value.mv_data), value.mv_size));
        ASSERT_TRUE(record);
        record->name = name;
        std::string encoded = store::encode_record(*record);
        MDB_val new_value{encoded.size(), encoded.data()};
        ASSERT_EQ(mdb_put(txn, tokens, &key_val, &new_value, 0), 0);
        ASSERT_EQ(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        world->start_daemon();
    }
};

TEST_F(NamesTest, CreateRefusesInvisibleAndFormattingCharactersNamingThemAndStoresNothing) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"invoice\u202Etxt.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"},
        {"ci\u2066upload\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"},
        {"ci\u200Bupload", "U+200B ZERO WIDTH SPACE"},
        {"\uFEFFci", "U+FEFF ZERO WIDTH NO-BREAK SPACE"},
        {"ci\u2028upload", "U+2028 LINE SEPARATOR"},
        {"ci\u0085upload", "U+0085"},
        {"ci\uE000", "U+E000"},
    };
    for (const auto& [name, named] : cases) {
        const ProcessResult r = ctl({"create", name});
        EXPECT_EQ(r.exit_code, 1) << named;
        EXPECT_EQ(r.out, "") << named << ": no token printed";
        EXPECT_TRUE(contains(r.err, "the token name contains " + named + ", which is not allowed"))
            << r.err;
        EXPECT_FALSE(contains(r.err, name)) << named << ": the raw name is echoed";
    }
    const ProcessResult decomposed = ctl({"create", "cafe\u0301"});
    EXPECT_EQ(decomposed.exit_code, 1);
    EXPECT_TRUE(contains(decomposed.err, "not in Unicode normalization form C")) << decomposed.err;
    EXPECT_EQ(listed(), json::array()) << "nothing was stored";

    // Visible non-ASCII names are fine.
    create("d\u00E9ploiement");
    create("日本語");
    create("deploy \U0001F680");
    EXPECT_EQ(listed().size(), 3U);
}

TEST_F(NamesTest, RenameRefusesAnOverrideAndKeepsTheOldName) {
    const std::string id = create("ci-upload");
    const std::string hostile = "ci-upload" + std::string(kRightToLeftOverride) + "gpj.exe";
    const ProcessResult r = ctl({"rename", id, hostile});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "the token name contains U+202E RIGHT-TO-LEFT OVERRIDE, which is "
                                "not allowed (invisible, formatting or control character)"))
        << r.err;
    EXPECT_FALSE(contains(r.err, kRightToLeftOverride)) << r.err;
    const json tokens = listed();
    ASSERT_EQ(tokens.size(), 1U);
    EXPECT_EQ(tokens[0].at("name"), "ci-upload");
}

TEST_F(NamesTest, NameStoredByAnOlderVersionIsShownEscapedAndCanBeRenamed) {
    const std::string id = create("placeholder");
    const std::string hostile = "invoice" + std::string(kRightToLeftOverride) + "fdp.exe";
    store_name_as_an_older_version_would(id, hostile);

    const ProcessResult table = ctl({"list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_TRUE(contains(table.out, "invoice\\u{202E}fdp.exe")) << table.out;
    EXPECT_FALSE(contains(table.out, kRightToLeftOverride)) << "the table shows it raw";

    // JSON keeps the real name (a program gets what is stored), written as
    // a JSON escape so that the text on a terminal shows nothing raw either.
    const ProcessResult json_out = ctl({"list", "--json"});
    ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
    EXPECT_FALSE(contains(json_out.out, kRightToLeftOverride)) << json_out.out;
    EXPECT_TRUE(contains(json_out.out, R"(invoice\u202Efdp.exe)")) << json_out.out;
    EXPECT_EQ(json::parse(json_out.out).at("tokens").at(0).at("name"), hostile);

    // The owner can fix it, and the name becomes plain again.
    const ProcessResult renamed = ctl({"rename", id, "invoice-pdf"});
    EXPECT_EQ(renamed.exit_code, 0) << renamed.err;
    EXPECT_EQ(listed().at(0).at("name"), "invoice-pdf");
}

TEST_F(NamesTest, TableColumnsStayAlignedWithWideCharacters) {
    create("日本語");
    create("ascii");
    const ProcessResult table = ctl({"list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    // The third column (CREATED) starts in the same terminal column on every
    // line: "日本語" is 9 bytes but 6 columns (each character 3 bytes, 2
    // columns), so byte counts would misalign it.
    std::vector<std::size_t> third_column;
    std::size_t start = 0;
    for (std::size_t end = table.out.find('\n'); end != std::string::npos;
         start = end + 1, end = table.out.find('\n', start)) {
        const std::string line = table.out.substr(start, end - start);
        const std::size_t name_at = line.find_first_not_of(' ', line.find("  "));
        const std::size_t created_at = line.find_first_not_of(' ', line.find("  ", name_at));
        ASSERT_NE(created_at, std::string::npos) << line;
        std::size_t columns = 0;
        for (std::size_t i = 0; i < created_at; ++i) {
            const auto byte = static_cast<unsigned char>(line[i]);
            columns += byte < 0x80 ? 1 : ((byte & 0xC0U) == 0xC0U ? 2 : 0);
        }
        third_column.push_back(columns);
    }
    ASSERT_EQ(third_column.size(), 3U) << table.out;
    EXPECT_EQ(third_column[0], third_column[1]) << table.out;
    EXPECT_EQ(third_column[0], third_column[2]) << table.out;
}

// NOLINTEND(misc-misleading-bidirectional)

} // namespace
} // namespace apitoken::testing
