#pragma once

#include <libxml/tree.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace apitoken::jenkins {

// Thrown inside jenkins/ when a file or a token entry does not have the
// shape XStream gives it; caught where it becomes a Problem, never outside.
class FormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Walking what XStream writes: elements named after fields, holding either
// text or more elements. Whitespace text and comments between elements are
// ignored.

[[nodiscard]] std::string_view name_of(const xmlNode& node);

// The document element, which must be called `expected`.
[[nodiscard]] const xmlNode& root_element(const xmlDoc& doc, std::string_view expected);

[[nodiscard]] std::vector<const xmlNode*> child_elements(const xmlNode& parent);

// The child element called `name`, nullptr when there is none. Two of them
// are a FormatError: XStream writes a field once, and choosing one of two
// would be guessing.
[[nodiscard]] const xmlNode* optional_child(const xmlNode& parent, std::string_view name);
[[nodiscard]] const xmlNode& required_child(const xmlNode& parent, std::string_view name);

// The text of an element holding only text (FormatError when it holds
// elements); character references are already resolved by the parser.
[[nodiscard]] std::string text_of(const xmlNode& element);

[[nodiscard]] std::optional<std::string> optional_child_text(const xmlNode& parent,
                                                             std::string_view name);
[[nodiscard]] std::string required_child_text(const xmlNode& parent, std::string_view name);

} // namespace apitoken::jenkins
