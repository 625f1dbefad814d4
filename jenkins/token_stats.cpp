#include "jenkins/token_stats.hpp"

#include "jenkins/jenkins_dates.hpp"
#include "jenkins/xml_nodes.hpp"
#include "jenkins/xml_reader.hpp"

#include <charconv>
#include <cstdint>
#include <tuple>

namespace apitoken::jenkins {

namespace {

constexpr std::string_view kStatsRoot = "jenkins.security.apitoken.ApiTokenStats";
constexpr std::string_view kStatsEntry =
    "jenkins.security.apitoken.ApiTokenStats_-SingleTokenStats";

// useCounter is a java.lang.Integer.
std::uint32_t read_counter(const xmlNode& entry) {
    const auto text = optional_child_text(entry, "useCounter");
    if (!text) {
        return 0;
    }
    std::int32_t value = 0;
    const char* end = text->data() + text->size();
    const auto [stop, error] = std::from_chars(text->data(), end, value);
    if (error != std::errc{} || stop != end) {
        throw FormatError("<useCounter> is not a Java int");
    }
    return value < 0 ? 0U : static_cast<std::uint32_t>(value);
}

std::optional<UnixSeconds> read_last_use(const xmlNode& entry) {
    const auto text = optional_child_text(entry, "lastUseDate");
    if (!text) {
        return std::nullopt;
    }
    const auto seconds = parse_xstream_date(*text);
    if (!seconds) {
        throw FormatError("<lastUseDate> is not a date as XStream writes it");
    }
    return seconds;
}

// Jenkins' COMP_BY_LAST_USE_THEN_COUNTER: no date sorts first.
bool used_later(const TokenUse& a, const TokenUse& b) {
    return std::tuple(a.last_used.has_value(), a.last_used.value_or(0), a.use_count) >
           std::tuple(b.last_used.has_value(), b.last_used.value_or(0), b.use_count);
}

TokenUses read_stats(const xmlDoc& doc) {
    const xmlNode& root = root_element(doc, kStatsRoot);
    TokenUses uses;
    const xmlNode* list = optional_child(root, "tokenStats");
    if (list == nullptr) {
        return uses;
    }
    for (const xmlNode* entry : child_elements(*list)) {
        if (name_of(*entry) != kStatsEntry) {
            throw FormatError("an element other than SingleTokenStats in <tokenStats>");
        }
        const std::string uuid = required_child_text(*entry, "tokenUuid");
        const TokenUse use{read_counter(*entry), read_last_use(*entry)};
        const auto [slot, inserted] = uses.try_emplace(uuid, use);
        if (!inserted && used_later(use, slot->second)) {
            slot->second = use;
        }
    }
    return uses;
}

} // namespace

TokenStatsParse parse_token_stats(std::string_view bytes) {
    TokenStatsParse result;
    XmlParse parsed = parse_xml(bytes);
    if (!parsed.doc) {
        result.error = std::move(parsed.error);
        return result;
    }
    try {
        result.uses = read_stats(*parsed.doc);
    } catch (const FormatError& e) {
        result.error = e.what();
    }
    return result;
}

} // namespace apitoken::jenkins
