#pragma once

#include "tests/integration/test_world.hpp"
#include "tests/support/subprocess.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace apitoken::testing {

// A real cockpit-ws for a TestWorld, on 127.0.0.1 without TLS. It runs in a
// mount namespace of its own, where
// - /run/dbus/system_bus_socket is the world's private bus (Cockpit's bridge
//   only knows the system bus path), on a private /run;
// - /etc/passwd and /etc/group also hold the world's users (same names and
//   uids as its nss_wrapper files), /etc/shadow holds only them, with a
//   password made for this site, and /etc/pam.d/cockpit checks it with
//   pam_unix, so that the login page, cockpit-session and the bridge run for
//   real as those users;
// - /var/log is empty (cockpit-session's wtmp and lastlog records stay in it);
// - each user's ~/.local/share/cockpit/apitoken is a copy of the page
//   (root's: the users' processes cannot change what the browser runs).
// The host's own bus, users, logs and Cockpit stay untouched. The password is
// random, in a file only root reads (password_file()), never in an argv.
class CockpitSite {
public:
    CockpitSite(const TestWorld& world, const std::vector<TestUser>& users,
                const std::filesystem::path& page_source);
    CockpitSite(const CockpitSite&) = delete;
    CockpitSite& operator=(const CockpitSite&) = delete;
    CockpitSite(CockpitSite&&) = delete;
    CockpitSite& operator=(CockpitSite&&) = delete;
    ~CockpitSite();

    // What is missing for a site on this machine ("" when nothing).
    [[nodiscard]] static std::string missing_parts();

    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::filesystem::path password_file() const { return private_ / "password"; }
    [[nodiscard]] std::string log_text() const;

private:
    void write_accounts(const std::vector<TestUser>& users, const std::string& password) const;
    void make_homes(const std::vector<TestUser>& users,
                    const std::filesystem::path& page_source) const;
    void start(const TestWorld& world);

    std::filesystem::path dir_;
    std::filesystem::path private_; // 0700: the accounts, the password
    int port_ = 0;
    std::unique_ptr<BackgroundProcess> ws_;
};

} // namespace apitoken::testing
