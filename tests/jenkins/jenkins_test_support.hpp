#pragma once

#include "jenkins/jenkins_records.hpp"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>

namespace apitoken::jenkins::test {

namespace fs = std::filesystem;

inline fs::path fixture() {
    return fs::path{APITOKEN_JENKINS_FIXTURE};
}

// Sets TZ for one test: expiry days end at local midnight.
class LocalZone {
public:
    explicit LocalZone(const char* zone) {
        if (const char* old = std::getenv("TZ")) { // NOLINT(concurrency-mt-unsafe)
            old_ = old;
        }
        set(zone);
    }
    LocalZone(const LocalZone&) = delete;
    LocalZone& operator=(const LocalZone&) = delete;
    LocalZone(LocalZone&&) = delete;
    LocalZone& operator=(LocalZone&&) = delete;
    ~LocalZone() {
        if (old_) {
            set(old_->c_str());
        } else {
            ::unsetenv("TZ"); // NOLINT(concurrency-mt-unsafe)
            ::tzset();
        }
    }

private:
    static void set(const char* zone) {
        ::setenv("TZ", zone, 1); // NOLINT(concurrency-mt-unsafe)
        ::tzset();
    }
    std::optional<std::string> old_;
};

// A directory of its own, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::random_device random;
        path_ = fs::temp_directory_path() /
                ("apitoken-jenkins-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
        fs::create_directories(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// A writable copy of one of the fixture homes.
inline fs::path copy_home(const TempDir& dir, std::string_view name = "jenkins_home") {
    fs::path home = dir.path() / name;
    fs::copy(fixture() / name, home, fs::copy_options::recursive);
    return home;
}

// The fixture's directory of a user, by the prefix of its name.
inline fs::path user_dir(const fs::path& home, std::string_view prefix) {
    for (const auto& entry : fs::directory_iterator(home / "users")) {
        if (entry.path().filename().string().starts_with(std::string(prefix) + "_")) {
            return entry.path();
        }
    }
    return {};
}

inline const JenkinsUser* find_user(const JenkinsHome& home, std::string_view id) {
    for (const JenkinsUser& user : home.users) {
        if (user.id == id) {
            return &user;
        }
    }
    return nullptr;
}
// The pointer would dangle as soon as the statement ends.
const JenkinsUser* find_user(const JenkinsHome&& home, std::string_view id) = delete;

inline const JenkinsToken* find_token(const JenkinsUser& user, std::string_view name) {
    for (const JenkinsToken& token : user.tokens) {
        if (token.name == name) {
            return &token;
        }
    }
    return nullptr;
}

inline std::string hex(const Sha256& bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t byte : bytes) {
        text += kDigits[static_cast<std::size_t>(byte >> 4U)];
        text += kDigits[static_cast<std::size_t>(byte & 0xFU)];
    }
    return text;
}

} // namespace apitoken::jenkins::test
