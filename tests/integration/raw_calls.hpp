#pragma once

// Raw D-Bus calls as another uid, for the attack tests: a child forked as
// the user (as_user), one private system-bus connection in it (RawBus), and
// a method call with arguments written by hand (call_raw), so that a test can
// send what no client of ours would.
#include "ipc/bus_api.hpp"
#include "tests/integration/test_world.hpp"

#include <grp.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <string>

namespace apitoken::testing {

// Runs `body` in a child forked as `user` (its groups too), pointed at the
// world's bus; returns what the body returned.
inline std::string as_user(const TestWorld& world, const TestUser& user,
                           const std::function<std::string()>& body) {
    int fds[2];
    if (::pipe(fds) != 0) {
        return "pipe failed";
    }
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        // NOLINTNEXTLINE(concurrency-mt-unsafe): the forked child has one thread
        ::setenv("DBUS_SYSTEM_BUS_ADDRESS", world.bus_address().c_str(), 1);
        if (::setgroups(user.groups.size(), user.groups.data()) != 0 ||
            ::setresgid(user.uid, user.uid, user.uid) != 0 ||
            ::setresuid(user.uid, user.uid, user.uid) != 0) {
            ::_exit(100);
        }
        const std::string out = body();
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    std::array<char, 65536> buf{};
    for (ssize_t n = 0; (n = ::read(fds[0], buf.data(), buf.size())) > 0;) {
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return out;
}

// One private connection to the system bus ($DBUS_SYSTEM_BUS_ADDRESS), for
// raw calls.
class RawBus {
public:
    RawBus() {
        if (sd_bus_open_system(&bus_) < 0) {
            bus_ = nullptr;
        }
    }
    RawBus(const RawBus&) = delete;
    RawBus& operator=(const RawBus&) = delete;
    RawBus(RawBus&&) = delete;
    RawBus& operator=(RawBus&&) = delete;
    ~RawBus() { sd_bus_flush_close_unref(bus_); }
    [[nodiscard]] sd_bus* get() const { return bus_; }

private:
    sd_bus* bus_ = nullptr;
};

// Calls `method`, its arguments written by `fill`; "error NAME: MESSAGE",
// or the reply as `read` makes it text.
inline std::string call_raw(sd_bus* bus, const char* method,
                            const std::function<int(sd_bus_message*)>& fill,
                            const std::function<std::string(sd_bus_message*)>& read) {
    sd_bus_message* m = nullptr;
    if (bus == nullptr ||
        sd_bus_message_new_method_call(bus, &m, ipc::kBusName, ipc::kObjectPath, ipc::kInterface,
                                       method) < 0 ||
        fill(m) < 0) {
        sd_bus_message_unref(m);
        return "no call";
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call(bus, m, 120'000'000, &error, &reply);
    sd_bus_message_unref(m);
    std::string out;
    if (r < 0) {
        out = std::string("error ") + (error.name ? error.name : "?") + ": " +
              (error.message ? error.message : "");
    } else {
        out = read(reply);
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return out;
}

} // namespace apitoken::testing
