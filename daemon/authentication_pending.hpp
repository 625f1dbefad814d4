#pragma once

// The state of one authentication on its way, shared by the files of the
// pipeline (authentication.cpp: the join; authentication_outcome.cpp: what
// follows a verdict; authentication_pending.cpp: the verify on a worker).
// Private to them.

#include "daemon/authentication.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apitoken::daemon {
namespace authentication_detail {

// A refusal decided before the caller is known, and when it is given.
struct EarlyVerdict {
    enum class When {
        // Arguments no caller may pass: answered as soon as the caller is known.
        BeforeAuthorization,
        // Once the caller is known to be allowed and not throttled.
        AfterAuthorization,
        // After a verify against the dummy hash, so that timing tells nothing.
        AfterHash,
    };
    When when;
    Failure failure;
    // For the audit log. A verdict with a reason is logged as a failed
    // authentication and counts against the source; one without is the
    // daemon's own trouble and is answered as it is.
    std::string reason;
};

// Where the Argon2id verify is.
enum class Hashing { NotStarted, Running, Done };

} // namespace authentication_detail

// One authentication on its way. Shared by the event loop, the question
// about the caller and the worker that verifies the hash; the token lives
// only in its SecretBuffer, wiped as soon as the worker is done (or at once
// when nothing is to be hashed).
struct Authenticator::Pending : std::enable_shared_from_this<Pending> {
    std::string requested_user; // "" = the caller
    std::string service;
    std::string rhost;
    std::string ruser;
    std::int64_t requester_uid = -1;
    store::SecretBuffer token;
    Reply reply;

    // Known before the caller is.
    std::optional<Target> target;
    std::string token_id;
    std::optional<store::TokenRecord> record; // nullopt: verify the dummy, then fail
    std::optional<authentication_detail::EarlyVerdict> verdict;
    std::string hash; // what the worker verifies against
    store::HashParams params;
    authentication_detail::Hashing hashing = authentication_detail::Hashing::NotStarted;
    // Written by the worker, read on the loop thread once it is done.
    bool matched = false;
    std::optional<std::string> rehashed;
    bool out_of_memory = false;

    // A Jenkins-shaped token names no id: it is checked against every token
    // the user imported from Jenkins (whatever matches, so the work is the
    // same), and `record` is the one that matched, once hashed.
    bool jenkins = false;
    std::vector<store::TokenRecord> imported;
    std::optional<std::size_t> imported_match; // written by the worker

    // Known once the caller is.
    std::optional<Caller> caller;
    bool answered = false;

    [[nodiscard]] const std::string& user() const { return target->name; }
    // Only callers who may authenticate anyone (root, the auth group) speak
    // for a remote host, a service or a requesting user (see ThrottleSource).
    [[nodiscard]] ThrottleSource source() const {
        ThrottleSource source;
        source.caller_uid = caller->uid;
        source.user = target->name;
        if (target->caller_acts_for_anyone) {
            source.rhost = rhost;
            source.service = service;
            source.ruser = ruser;
            source.requester_uid = requester_uid;
        }
        return source;
    }
    // Whose turn the hash takes (HashLane): a service's requesters (remote
    // host, requesting user and process uid) each have their own lane,
    // whatever user they name, so that inventing user names buys no share.
    // Within each, checks of no real token (an unknown user or token id,
    // verified against the dummy hash only for equal timing) have a lane of
    // their own: a flood of made-up names or ids through a service that
    // names no remote host does not crowd out a real user's real token
    // there. (That user and token exist tells nothing secret: ids are
    // public and users are in NSS.)
    [[nodiscard]] HashLane lane() const {
        std::string requester;
        if (target->caller_acts_for_anyone) {
            requester = rhost + '\n' + ruser + '\n' + std::to_string(requester_uid);
        }
        if (!record && imported.empty()) {
            requester += "\n(no such token)";
        }
        return {caller->uid, std::move(requester)};
    }
    void decide(authentication_detail::EarlyVerdict::When when, Failure failure,
                std::string reason = {}) {
        verdict = authentication_detail::EarlyVerdict{when, std::move(failure), std::move(reason)};
    }
    // On the worker.
    void verify();
    void verify_imported();
};

} // namespace apitoken::daemon
