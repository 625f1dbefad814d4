#include "ipc/bus_api.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace apitoken::ipc {
namespace {

constexpr std::array<std::pair<Error, const char*>, 10> kErrorNames{{
    {Error::NoSuchUser, "io.apitoken1.Error.NoSuchUser"},
    {Error::AuthenticationFailed, "io.apitoken1.Error.AuthenticationFailed"},
    {Error::TooManyAttempts, "io.apitoken1.Error.TooManyAttempts"},
    {Error::AccessDenied, "io.apitoken1.Error.AccessDenied"},
    {Error::InvalidArgument, "io.apitoken1.Error.InvalidArgument"},
    {Error::Busy, "io.apitoken1.Error.Busy"},
    {Error::NoSuchToken, "io.apitoken1.Error.NoSuchToken"},
    {Error::DuplicateName, "io.apitoken1.Error.DuplicateName"},
    {Error::TooManyTokens, "io.apitoken1.Error.TooManyTokens"},
    {Error::Failed, "io.apitoken1.Error.Failed"},
}};

// The composite signatures are spelled out whole (for readers and for
// the interface test); they must agree with their parts.
constexpr bool composed_of(std::string_view whole, std::string_view before, std::string_view part,
                           std::string_view after) {
    return whole.size() == before.size() + part.size() + after.size() &&
           whole.substr(0, before.size()) == before &&
           whole.substr(before.size(), part.size()) == part &&
           whole.substr(before.size() + part.size()) == after;
}
static_assert(composed_of(signature::kTokenInfo, "(", signature::kTokenInfoFields, ")"));
static_assert(composed_of(signature::kListTokensOut, "a", signature::kTokenInfo, ""));

} // namespace

const char* error_name(Error error) noexcept {
    for (const auto& [value, name] : kErrorNames) {
        if (value == error) {
            return name;
        }
    }
    return "io.apitoken1.Error.Failed";
}

std::optional<Error> error_from_name(std::string_view name) noexcept {
    for (const auto& [value, known] : kErrorNames) {
        if (name == known) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace apitoken::ipc
