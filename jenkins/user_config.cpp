#include "jenkins/user_config.hpp"

#include "jenkins/hashed_token.hpp"
#include "jenkins/token_text.hpp"
#include "jenkins/xml_nodes.hpp"
#include "jenkins/xml_reader.hpp"

#include <algorithm>
#include <set>

namespace apitoken::jenkins {

namespace {

constexpr std::string_view kPropertyElement = "jenkins.security.ApiTokenProperty";

std::string entry_label(std::size_t index, const xmlNode& entry) {
    std::string label = "token entry " + std::to_string(index + 1);
    // The uuid is shown only when it has a uuid's shape: anything else is
    // the file's text, which could be long or hold control characters.
    try {
        const auto uuid = optional_child_text(entry, "uuid");
        if (uuid && is_uuid(*uuid)) {
            label += " (uuid " + *uuid + ")";
        }
    } catch (const FormatError&) {
        // The entry's own reading says what is wrong with it.
    }
    return label;
}

// One entry of tokenList into config.tokens, or a line into config.skipped.
void read_entry(std::size_t index, const xmlNode& entry, std::set<std::string>& uuids,
                UserConfig& config) {
    const std::string label = entry_label(index, entry);
    if (name_of(entry) != kHashedTokenElement) {
        config.skipped.push_back(label + ": not a HashedToken element, skipped");
        return;
    }
    try {
        JenkinsToken token = read_hashed_token(entry);
        if (!uuids.insert(token.uuid).second) {
            config.skipped.push_back(label + ": the same uuid as an earlier entry, skipped");
            return;
        }
        config.tokens.push_back(std::move(token));
    } catch (const FormatError& e) {
        config.skipped.push_back(label + ": " + e.what() + ", skipped");
    }
}

void read_token_store(const xmlNode& property, UserConfig& config) {
    const xmlNode* store = optional_child(property, "tokenStore");
    const xmlNode* list = store != nullptr ? optional_child(*store, "tokenList") : nullptr;
    if (list == nullptr) {
        return;
    }
    std::set<std::string> uuids;
    const auto entries = child_elements(*list);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        read_entry(i, *entries[i], uuids, config);
    }
}

std::optional<std::string> read_id(const xmlNode& user) {
    auto id = optional_child_text(user, "id");
    if (id && id->empty()) {
        throw FormatError("<id> is empty");
    }
    return id;
}

UserConfig read_user(const xmlDoc& doc) {
    const xmlNode& user = root_element(doc, "user");
    UserConfig config;
    config.id = read_id(user);
    const xmlNode* properties = optional_child(user, "properties");
    const xmlNode* property =
        properties != nullptr ? optional_child(*properties, kPropertyElement) : nullptr;
    if (property != nullptr) {
        config.has_encrypted_api_token = optional_child(*property, "apiToken") != nullptr;
        read_token_store(*property, config);
    }
    return config;
}

} // namespace

UserConfigParse parse_user_config(std::string_view bytes) {
    UserConfigParse result;
    XmlParse parsed = parse_xml(bytes);
    if (!parsed.doc) {
        result.error = std::move(parsed.error);
        return result;
    }
    try {
        result.config = read_user(*parsed.doc);
    } catch (const FormatError& e) {
        result.error = e.what();
    }
    return result;
}

} // namespace apitoken::jenkins
