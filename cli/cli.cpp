#include "cli/cli.hpp"
#include "cli/huge_pages.hpp"

#include "cli/common.hpp"
#include "cli/terminal.hpp"
#include "pipeline/build/versions.hpp"
#include "pipeline/model/suggest.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace cachet::cli {
namespace {

std::string version_text()
{
    std::string out = "cachet " + cachet_version() + "\n";
    try {
        for (const auto& [library, version] : library_versions())
            out += "  " + library + " " + version + "\n";
    } catch (const Error& e) { // --version always answers: it is what one runs to see what is wrong
        out += "  image libraries: not available: " + printable(e.what(), 2000) + "\n";
    }
    out.pop_back();
    return out;
}

// An error of the run itself: on stderr, and as JSON on stdout when --json was asked for (an
// argument error too), so that a CI step parsing stdout always gets a document.
int run_error(const std::string& message, int code, bool json)
{
    std::fprintf(stderr, "%s %s\n", terminal::paint("cachet: error:", terminal::Tone::error).c_str(), message.c_str());
    if (json)
        std::fputs((nlohmann::json({{"status", "error"}, {"error", message}, {"exit_code", code}})
                        .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                    "\n")
                       .c_str(),
                   stdout);
    return code;
}

// --help as people write it (ripgrep, cargo): plain placeholders (<DIR>, <N>), set where each
// option is declared, instead of CLI11's types and validators (UINT:UINT in [1 - 1024]); the
// default and "required" said in words after the description.
class HelpFormatter final : public CLI::Formatter {
public:
    std::string make_option_opts(const CLI::Option* option) const override
    {
        if (!option->nonpositional())
            return ""; // a positional's name says it all
        if (!option->get_option_text().empty())
            return " " + option->get_option_text();
        if (option->get_type_size() == 0 || option->get_type_name().empty())
            return ""; // a flag
        return option->get_expected_max() > 1 ? " <VALUE>..." : " <VALUE>";
    }

    std::string make_option_name(const CLI::Option* option, bool positional) const override
    {
        std::string name = CLI::Formatter::make_option_name(option, positional);
        if (const auto brace = name.find('{'); brace != std::string::npos) // "--no-negotiate{false}"
            name.erase(brace);
        return name;
    }

    std::string make_option_desc(const CLI::Option* option) const override
    {
        std::string text = option->get_description();
        if (option->nonpositional() && !option->get_default_str().empty() && text.find("default") == std::string::npos)
            text += " (default: " + option->get_default_str() + ")";
        if (option->nonpositional() && option->get_required())
            text += " (required)";
        return text;
    }
};

} // namespace

int main(int argc, char** argv)
{
    remember_arguments(argv);
    CLI::App app{"cachet: turns a site's public/ tree into a deployable, fingerprinted, precompressed tree "
                 "with a manifest"};
    app.name("cachet");                               // (CLI11 would print argv[0], the absolute path, in every Usage:)
    app.formatter(std::make_shared<HelpFormatter>()); // (subcommands made after this share it)
    app.footer("Examples:\n"
               "  cachet build public -o dist                            build a site\n"
               "  cachet watch public -o dist                            rebuild on every save\n"
               "  cachet export nginx --manifest dist --file cachet.nginx\n"
               "  cachet help build                                      one command's options");
    app.set_version_flag("-V,--version", version_text);
    app.require_subcommand(1);
    // --color anywhere on the line: before the command or after it (fallthrough).
    std::string color = "auto";
    app.add_option("--color", color, "Colour on stderr: auto (a terminal, and NO_COLOR unset), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->option_text("<WHEN>");
    app.fallthrough();
    terminal::configure("auto");
    std::vector<Command> commands{add_build_command(app), add_watch_command(app)};
    for (auto* group : {add_cache_commands, add_manifest_commands, add_settings_commands})
        for (Command& c : group(app))
            commands.push_back(std::move(c));

    const bool json_asked =
        std::any_of(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; });
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({}))
        names.push_back(sub->get_name());
    names.emplace_back("help");
    if (argc == 1) { // what cachet is and how to start, rather than "a subcommand is required"
        std::fputs(app.help().c_str(), stderr);
        return k_exit_usage;
    }
    if (argc >= 2 && argv[1][0] != '-') {
        const std::string word = argv[1];
        if (word == "help") { // `cachet help`, `cachet help COMMAND`
            if (argc == 2) {
                std::fputs(app.help().c_str(), stdout);
                return k_exit_ok;
            }
            for (CLI::App* sub : app.get_subcommands({}))
                if (sub->get_name() == argv[2]) {
                    std::fputs(sub->help("cachet").c_str(), stdout);
                    return k_exit_ok;
                }
            return run_error("no such command: " + printable(argv[2], 200) + did_you_mean(argv[2], names), k_exit_usage,
                             json_asked);
        }
        if (std::find(names.begin(), names.end(), word) == names.end()) {
            return run_error("no such command: " + printable(word, 200) + did_you_mean(word, names) +
                                 " (cachet help lists them)",
                             k_exit_usage, json_asked);
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (json_asked && e.get_exit_code() != 0) // (--help and --version are not errors)
            return run_error(printable(e.what(), 2000), k_exit_usage, true);
        const int code = app.exit(e);
        return code == 0 ? k_exit_ok : k_exit_usage;
    }
    terminal::configure(color);
    const Command* given = nullptr;
    for (const Command& c : commands)
        if (c.app->parsed())
            given = &c;
    if (!given)
        return k_exit_usage;
    try {
        return given->run();
    } catch (const Error& e) {
        // (A message may quote a name or a URL from input: escaped, and capped.)
        return run_error(printable(e.what(), 2000), exit_code_for(e.kind()), given->json && *given->json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s %s\n", terminal::paint("cachet: internal error:", terminal::Tone::error).c_str(),
                     printable(e.what(), 2000).c_str());
        return k_exit_internal;
    }
}

} // namespace cachet::cli
