#include "jenkins/xml_nodes.hpp"

namespace apitoken::jenkins {

namespace {

std::string quoted(std::string_view name) {
    return "<" + std::string(name) + ">";
}

} // namespace

std::string_view name_of(const xmlNode& node) {
    return node.name != nullptr ? reinterpret_cast<const char*>(node.name) : "";
}

const xmlNode& root_element(const xmlDoc& doc, std::string_view expected) {
    const xmlNode* root = xmlDocGetRootElement(&doc);
    if (root == nullptr) {
        throw FormatError("no root element");
    }
    if (name_of(*root) != expected) {
        throw FormatError("root element is " + quoted(name_of(*root)) + ", not " +
                          quoted(expected));
    }
    return *root;
}

std::vector<const xmlNode*> child_elements(const xmlNode& parent) {
    std::vector<const xmlNode*> children;
    for (const xmlNode* child = parent.children; child != nullptr; child = child->next) {
        if (child->type == XML_ELEMENT_NODE) {
            children.push_back(child);
        }
    }
    return children;
}

const xmlNode* optional_child(const xmlNode& parent, std::string_view name) {
    const xmlNode* found = nullptr;
    for (const xmlNode* child : child_elements(parent)) {
        if (name_of(*child) != name) {
            continue;
        }
        if (found != nullptr) {
            throw FormatError(quoted(name) + " twice in " + quoted(name_of(parent)));
        }
        found = child;
    }
    return found;
}

const xmlNode& required_child(const xmlNode& parent, std::string_view name) {
    const xmlNode* child = optional_child(parent, name);
    if (child == nullptr) {
        throw FormatError("no " + quoted(name) + " in " + quoted(name_of(parent)));
    }
    return *child;
}

std::string text_of(const xmlNode& element) {
    std::string text;
    for (const xmlNode* child = element.children; child != nullptr; child = child->next) {
        switch (child->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (child->content != nullptr) {
                text += reinterpret_cast<const char*>(child->content);
            }
            break;
        case XML_COMMENT_NODE:
        case XML_PI_NODE: break;
        default: throw FormatError(quoted(name_of(element)) + " holds more than text");
        }
    }
    return text;
}

std::optional<std::string> optional_child_text(const xmlNode& parent, std::string_view name) {
    const xmlNode* child = optional_child(parent, name);
    if (child == nullptr) {
        return std::nullopt;
    }
    return text_of(*child);
}

std::string required_child_text(const xmlNode& parent, std::string_view name) {
    return text_of(required_child(parent, name));
}

} // namespace apitoken::jenkins
