#include "cli/common.hpp"
#include "pipeline/model/suggest.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <regex>

// The commands about settings: presets (the built-in ones) and config (what a build here uses).
namespace cachet::cli {
namespace {

// `cachet presets`: each preset and its description; `cachet presets NAME`: that preset's TOML
// (on top of default's, which is printed whole).
int list_presets(const std::string& name, bool json)
{
    if (!name.empty()) {
        std::vector<std::string> names;
        for (const auto& p : embedded_presets()) {
            if (p.name == name) {
                if (json)
                    std::fputs((nlohmann::json({{"name", p.name}, {"toml", p.text}}).dump(2) + "\n").c_str(), stdout);
                else
                    std::fputs(std::string(p.text).c_str(), stdout);
                return k_exit_ok;
            }
            names.emplace_back(p.name);
        }
        throw Error(ErrorKind::usage, "unknown preset \"" + printable(name, 200) + "\"" + did_you_mean(name, names));
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : embedded_presets()) {
        const Preset preset = load_preset(p.name);
        if (json)
            list.push_back({{"name", p.name}, {"description", preset.description}});
        else
            std::printf("%-14s %s\n", std::string(p.name).c_str(), preset.description.c_str());
    }
    if (json)
        std::fputs((list.dump(2) + "\n").c_str(), stdout);
    return k_exit_ok;
}

struct ConfigFlags {
    BuildFlags build;
    bool json = false;
};

// A URL's credentials ("https://user:secret@host") as "***": settings are printed to CI logs.
std::string without_credentials(const std::string& value)
{
    static const std::regex k_userinfo(R"(://[^/@\s"]*@)");
    return std::regex_replace(value, k_userinfo, "://***@");
}

// `cachet config`: the settings a build here would use, as TOML, each with where it came from.
int show_config(const ConfigFlags& flags)
{
    const Config config = make_config(flags.build);
    const auto& origins = config.preset.origins;
    if (flags.json) {
        nlohmann::json settings = nlohmann::json::object();
        for (const auto& [key, origin] : origins)
            settings[key] = {{"value", without_credentials(origin.value)}, {"from", origin.from}};
        const nlohmann::json doc = {{"preset", config.preset.name},
                                    {"config_file", config.config_file.empty()
                                                        ? nlohmann::json(nullptr)
                                                        : nlohmann::json(config.config_file.string())},
                                    {"settings", settings}};
        std::fputs((doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), stdout);
        return k_exit_ok;
    }
    // Keys of the top level first (TOML wants them before any [table]), then each table's.
    std::map<std::string, std::vector<std::pair<std::string, const SettingOrigin*>>> tables;
    for (const auto& [key, origin] : origins) {
        const auto dot = key.rfind('.');
        tables[dot == std::string::npos ? "" : key.substr(0, dot)].emplace_back(
            dot == std::string::npos ? key : key.substr(dot + 1), &origin);
    }
    std::string out = "# The settings of a build here: preset " + config.preset.name +
                      (config.config_file.empty() ? std::string(", no configuration file")
                                                  : ", then " + printable(config.config_file.string())) +
                      ", then flags and the environment.\n# Each line says where its value came from; "
                      "this is TOML, usable as a --config file.\n";
    for (const auto& [table, keys] : tables) {
        if (!table.empty())
            out += "\n[" + table + "]\n";
        for (const auto& [name, origin] : keys) {
            // (The value is TOML, escaped as such; the origin may name a file: escaped too.)
            const std::string line = name + " = " + without_credentials(origin->value);
            out += line + std::string(line.size() < 48 ? 48 - line.size() : 1, ' ') + "# " + printable(origin->from) +
                   "\n";
        }
    }
    std::fputs(out.c_str(), stdout);
    return k_exit_ok;
}

} // namespace

std::vector<Command> add_settings_commands(CLI::App& app)
{
    auto preset_name = std::make_shared<std::string>();
    auto presets_json = std::make_shared<bool>(false);
    CLI::App* presets = app.add_subcommand("presets", "List the built-in presets, or print one's TOML");
    presets->add_option("NAME", *preset_name, "Print this preset's TOML (the others apply on top of default)");
    presets->add_flag("--json", *presets_json, "Print JSON on stdout");
    presets->footer("Examples:\n"
                    "  cachet presets                list them\n"
                    "  cachet presets fast           print the fast preset's TOML");

    auto flags = std::make_shared<ConfigFlags>();
    CLI::App* config = app.add_subcommand(
        "config", "Print the settings a build here would use, and where each came from (preset, config file, flag)");
    config->add_option("--preset", flags->build.preset, "Preset name or TOML file")
        ->option_text("<NAME|FILE>")
        ->each([flags](const std::string&) { flags->build.preset_given = true; });
    config->add_option("--config", flags->build.config_file, "Configuration file (default: ./cachet.toml if present)")
        ->option_text("<FILE>");
    config->add_option("--memory", flags->build.memory, "As for build")->option_text("<SIZE>");
    config->add_option("--remote-cache", flags->build.remote_cache, "As for build")->option_text("<URL>...");
    config->add_flag("--json", flags->json, "Print JSON on stdout: {\"settings\": {KEY: {\"value\", \"from\"}}}");
    config->footer("Examples:\n"
                   "  cachet config                         what cachet build would use here\n"
                   "  cachet config --preset fast           ... with another preset\n"
                   "  cachet config --json | jq '.settings[\"images.widths\"]'");
    return {Command{presets, [preset_name, presets_json] { return list_presets(*preset_name, *presets_json); },
                    presets_json.get()},
            Command{config, [flags] { return show_config(*flags); }, &flags->json}};
}

} // namespace cachet::cli
