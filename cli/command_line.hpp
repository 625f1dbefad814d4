#pragma once

// apitokenctl's command line (CLI11): the subcommands, their options and
// --help texts with examples. What the words mean is decided in main.cpp.

#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace apitoken::cli {

// The words as given; one subcommand runs, so subcommands share members.
struct Arguments {
    GlobalOptions global;
    std::string user;
    std::string name; // create NAME, update --name
    std::string id;   // show, update, rotate, rename
    std::string expires;
    std::string description;
    std::vector<std::string> services;
    std::vector<std::string> sources;
    std::vector<std::string> hosts;
    bool any_service = false;
    bool any_source = false;
    bool any_host = false;
    bool no_description = false;
    std::string max_uses;
    std::string grace;
    std::vector<std::string> ids; // revoke ID...
    bool all = false;
    std::string new_name; // rename
    bool all_users = false;
    std::string expiring;
    std::string unused;
    bool expired = false;
    bool dry_run = false;
    ScanOptions scan;
    ImportJenkinsOptions import_jenkins;
};

void define_commands(CLI::App& app, Arguments& a);

} // namespace apitoken::cli
