#pragma once

// Owning handles for libsystemd objects (sd-bus, sd-event), so that every
// part releases them the same way on every path.

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>

namespace apitoken::ipc {

// A span as sd-event's times are given (microseconds).
[[nodiscard]] inline std::uint64_t usec_of(std::chrono::microseconds span) noexcept {
    return static_cast<std::uint64_t>(span.count());
}

struct MessageUnref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;

// A message several owners keep alive (a call answered later, after
// hashing). sd-bus reference counts are not atomic: share it on one thread.
using SharedMessage = std::shared_ptr<sd_bus_message>;
[[nodiscard]] inline SharedMessage share(sd_bus_message* m) {
    return {sd_bus_message_ref(m), MessageUnref{}};
}

// A client's connection: closed without waiting for queued output.
struct BusCloseUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_close_unref(bus); }
};
using BusPtr = std::unique_ptr<sd_bus, BusCloseUnref>;

// A server's connection: queued replies are flushed before it closes.
struct BusFlushCloseUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_flush_close_unref(bus); }
};
using ServerBusPtr = std::unique_ptr<sd_bus, BusFlushCloseUnref>;

// Releasing a pending call's slot cancels it: its callback never runs.
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const noexcept { sd_bus_slot_unref(slot); }
};
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;

struct EventUnref {
    void operator()(sd_event* event) const noexcept { sd_event_unref(event); }
};
using EventPtr = std::unique_ptr<sd_event, EventUnref>;

struct EventSourceUnref {
    void operator()(sd_event_source* source) const noexcept {
        sd_event_source_disable_unref(source);
    }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceUnref>;

// A source that calls `handler` whenever `fd` has input. Throws
// std::system_error naming `what` when sd-event refuses.
[[nodiscard]] inline EventSourcePtr watch_readable(sd_event* event, int fd,
                                                   sd_event_io_handler_t handler, void* userdata,
                                                   const char* what) {
    sd_event_source* raw = nullptr;
    const int r = sd_event_add_io(event, &raw, fd, EPOLLIN, handler, userdata);
    if (r < 0) {
        throw std::system_error(-r, std::generic_category(), what);
    }
    return EventSourcePtr(raw);
}

// An sd_bus_error that frees itself.
class BusError {
public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    BusError(BusError&&) = delete;
    BusError& operator=(BusError&&) = delete;
    ~BusError() { sd_bus_error_free(&error_); }

    [[nodiscard]] sd_bus_error* get() noexcept { return &error_; }
    [[nodiscard]] const sd_bus_error& operator*() const noexcept { return error_; }
    [[nodiscard]] bool is_set() const noexcept { return sd_bus_error_is_set(&error_) != 0; }
    void clear() noexcept { sd_bus_error_free(&error_); }

private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

} // namespace apitoken::ipc
