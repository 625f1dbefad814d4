#pragma once

#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace apitoken::jenkins {

struct XmlDocDeleter {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// A document, or why the bytes are refused (a sentence for the admin).
struct XmlParse {
    XmlDocPtr doc;
    std::string error;
};

// Parses bytes that came from a JENKINS_HOME, which may be hostile (a
// compromised or careless Jenkins, a tarball from elsewhere). Refused:
// - bytes that are not UTF-8, and documents that declare another encoding
//   (XStream always writes UTF-8; anything else is a mislabelled file);
// - any DOCTYPE: Jenkins never writes one, and with it go entities
//   (billion laughs, external entities such as file:///etc/passwd) and
//   external DTDs; the parser stops at the DOCTYPE before reading any
//   declaration;
// - nesting deeper than libxml2's default 256 (XML_PARSE_HUGE is not set);
// - anything not well-formed (truncated files included).
// No network, no entity substitution, no DTD loading, nothing written to
// stderr. version="1.1" (what XStream writes) is accepted: libxml2 parses it
// with XML 1.0 rules, which only differ for control characters that
// Jenkins' data does not hold (such a file is refused as not well-formed).
[[nodiscard]] XmlParse parse_xml(std::string_view bytes);

// The offset of the first byte that is not part of well-formed UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included), or
// nullopt when all are.
[[nodiscard]] std::optional<std::size_t> first_invalid_utf8(std::string_view bytes);

} // namespace apitoken::jenkins
