#pragma once

#include "tests/integration/test_world.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>

namespace apitoken::testing {

// Base fixture of the integration tests: a fresh TestWorld for each test.
// Skips, saying why, when not root (callers of other uids need setpriv).
// A derived SetUp calls this one first and returns when IsSkipped().
class WorldTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "integration tests need root: they run callers as other uids (setpriv)";
        }
        world = std::make_unique<TestWorld>();
    }

    // The suite's valgrind run: memcheck errors in any daemon fail the test.
    void TearDown() override {
        if (world && TestWorld::daemon_under_valgrind()) {
            const std::string reports = world->finish_valgrind_run();
            EXPECT_TRUE(reports.empty()) << "valgrind found errors in apitokend:\n" << reports;
        }
    }

    std::unique_ptr<TestWorld> world;
};

} // namespace apitoken::testing
