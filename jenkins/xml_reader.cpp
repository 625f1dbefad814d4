#include "jenkins/xml_reader.hpp"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <new>
#include <string>
#include <strings.h>

namespace apitoken::jenkins {

namespace {

// XML_PARSE_NONET: nothing is ever fetched. No XML_PARSE_NOENT (entities
// stay unsubstituted), no DTDLOAD/DTDATTR/DTDVALID, no HUGE (keeps the depth
// limit of 256 and the text limits). NOERROR/NOWARNING: errors come to
// on_error instead of stderr.
constexpr int kParseOptions =
    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

// A message longer than this is cut: the admin needs the cause, not a page.
constexpr std::size_t kMaxMessage = 200;

struct ParserCtxtDeleter {
    void operator()(xmlParserCtxt* ctxt) const noexcept { xmlFreeParserCtxt(ctxt); }
};
using ParserCtxtPtr = std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter>;

// What the callbacks learn during one parse; reached through _private.
struct ParseState {
    std::string first_error;
    bool doctype = false;
};

ParseState& state_of(void* user_data) {
    // libxml2 passes ctxt->userData, which is the context itself.
    auto* ctxt = static_cast<xmlParserCtxt*>(user_data);
    return *static_cast<ParseState*>(ctxt->_private);
}

std::string describe(const xmlError& error) {
    std::string text = error.message != nullptr ? error.message : "unknown error";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    if (text.size() > kMaxMessage) {
        text.resize(kMaxMessage);
        text += "...";
    }
    return "line " + std::to_string(error.line) + ": " + text;
}

// The first error says why; later ones are usually its echoes. Warnings
// (such as "Unsupported version '1.1'" for XStream's header) are not errors.
void on_error(void* user_data, xmlError* error) {
    if (error == nullptr || error->level < XML_ERR_ERROR) {
        return;
    }
    ParseState& state = state_of(user_data);
    if (state.first_error.empty()) {
        state.first_error = describe(*error);
    }
}

// Called at <!DOCTYPE, before any declaration in it is read: stopping here
// means no entity is ever declared, expanded or fetched.
void on_doctype(void* user_data, const xmlChar* /*name*/, const xmlChar* /*external_id*/,
                const xmlChar* /*system_id*/) {
    state_of(user_data).doctype = true;
    xmlStopParser(static_cast<xmlParserCtxt*>(user_data));
}

void init_libxml2_once() {
    // xmlInitParser is not safe to call from two threads at once.
    static const bool initialized = [] {
        xmlInitParser();
        return true;
    }();
    static_cast<void>(initialized);
}

XmlParse refused(std::string why) {
    XmlParse result;
    result.error = std::move(why);
    return result;
}

bool is_utf8_name(const xmlChar* encoding) {
    const auto* name = reinterpret_cast<const char*>(encoding);
    return ::strcasecmp(name, "UTF-8") == 0 || ::strcasecmp(name, "UTF8") == 0;
}

// Multi-byte sequence at text[i] (lead byte already known not ASCII):
// its length, or 0 when it is not well-formed UTF-8 (RFC 3629).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
    const std::uint8_t lead = byte(i);
    std::size_t length = 0;
    std::uint8_t low = 0x80;
    std::uint8_t high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
        high = lead == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;  // no overlong forms
        high = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (text.size() - i < length || byte(i + 1) < low || byte(i + 1) > high) {
        return 0;
    }
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
            return 0;
        }
    }
    return length;
}

} // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (static_cast<std::uint8_t>(bytes[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t length = utf8_sequence_length(bytes, i);
        if (length == 0) {
            return i;
        }
        i += length;
    }
    return std::nullopt;
}

XmlParse parse_xml(std::string_view bytes) {
    if (bytes.empty()) {
        return refused("empty file");
    }
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
        return refused("too large to parse");
    }
    // Checked before libxml2 sees the bytes, so that no encoding guessing
    // (a UTF-16 byte order mark, a declared ISO-8859-1) ever applies.
    if (const auto offset = first_invalid_utf8(bytes)) {
        return refused("not UTF-8 (byte " + std::to_string(*offset) +
                       "); Jenkins writes its XML in UTF-8");
    }
    init_libxml2_once();
    const ParserCtxtPtr ctxt(
        xmlCreateMemoryParserCtxt(bytes.data(), static_cast<int>(bytes.size())));
    if (!ctxt) {
        throw std::bad_alloc();
    }
    ParseState state;
    ctxt->_private = &state;
    ctxt->sax->serror = on_error;
    ctxt->sax->internalSubset = on_doctype;
    static_cast<void>(xmlCtxtUseOptions(ctxt.get(), kParseOptions));
    static_cast<void>(xmlParseDocument(ctxt.get()));
    XmlDocPtr doc(ctxt->myDoc); // ours now, whatever happened
    ctxt->myDoc = nullptr;

    if (state.doctype) {
        return refused("has a DOCTYPE (entities, external DTD): Jenkins never writes one");
    }
    if (!doc || ctxt->wellFormed == 0) {
        return refused(state.first_error.empty() ? "not well-formed XML"
                                                 : "not well-formed XML: " + state.first_error);
    }
    if (doc->encoding != nullptr && !is_utf8_name(doc->encoding)) {
        return refused("declares encoding " +
                       std::string(reinterpret_cast<const char*>(doc->encoding)) +
                       "; Jenkins writes its XML in UTF-8");
    }
    XmlParse result;
    result.doc = std::move(doc);
    return result;
}

} // namespace apitoken::jenkins
