#include "jenkins/users_index.hpp"

#include "jenkins/xml_nodes.hpp"
#include "jenkins/xml_reader.hpp"

namespace apitoken::jenkins {

namespace {

// <entry><string>key</string><string>value</string></entry>, XStream's map.
std::pair<std::string, std::string> read_entry(const xmlNode& entry) {
    if (name_of(entry) != "entry") {
        throw FormatError("an element other than <entry> in <idToDirectoryNameMap>");
    }
    const auto strings = child_elements(entry);
    if (strings.size() != 2 || name_of(*strings[0]) != "string" ||
        name_of(*strings[1]) != "string") {
        throw FormatError("an <entry> that is not two <string>s");
    }
    return {text_of(*strings[0]), text_of(*strings[1])};
}

UserDirectoryIds read_index(const xmlDoc& doc) {
    const xmlNode& root = root_element(doc, "hudson.model.UserIdMapper");
    UserDirectoryIds ids;
    const xmlNode* map = optional_child(root, "idToDirectoryNameMap");
    if (map == nullptr) {
        return ids;
    }
    for (const xmlNode* entry : child_elements(*map)) {
        auto [id, directory] = read_entry(*entry);
        const auto [slot, inserted] = ids.try_emplace(std::move(directory), id);
        if (!inserted && slot->second != id) {
            throw FormatError("a directory named for two users");
        }
    }
    return ids;
}

} // namespace

UsersIndexParse parse_users_index(std::string_view bytes) {
    UsersIndexParse result;
    XmlParse parsed = parse_xml(bytes);
    if (!parsed.doc) {
        result.error = std::move(parsed.error);
        return result;
    }
    try {
        result.ids = read_index(*parsed.doc);
    } catch (const FormatError& e) {
        result.error = e.what();
    }
    return result;
}

} // namespace apitoken::jenkins
