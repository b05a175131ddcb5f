#include "pipeline/config/setters.hpp"

#include "pipeline/fs/glob.hpp"

#include <set>

namespace cachet::config_keys {

// [[images.rules]]: each table needs `match` (a glob or a list of globs) and may set any other
// images.* key; its keys are checked now, against a scratch preset, and kept for later.
Setter image_rules()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[images.rules]])");
        preset.images.rules.clear(); // like every array, a later file's rules replace earlier ones
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            const toml::node* match = table.get("match");
            if (!match)
                at.fail("needs match = \"glob\" or a list of globs");
            ImageRule rule;
            rule.match = globs(Where{w.source, w.key + ".match", *match});
            for (const char* global : {"rules", "max_pixels", "max_frames", "max_animation_pixels", "unsupported"})
                if (const toml::node* n = table.get(global))
                    Where{w.source, w.key + "." + global, *n}.fail("cannot be set per rule");
            Preset scratch = preset;
            apply_table(scratch, table, "images", w.source, "match"); // on the parsed nodes: file:line
            toml::table settings = table;
            settings.erase("match");
            const std::string source = w.source;
            rule.apply = [settings, source](ImageSettings& images) {
                Preset p;
                p.images = images;
                apply_table(p, settings, "images", source);
                images = std::move(p.images);
            };
            preset.images.rules.push_back(std::move(rule));
        }
    };
}

bool is_header_token(std::string_view name)
{
    static constexpr std::string_view k_specials = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || k_specials.find(static_cast<char>(c)) != std::string_view::npos;
    });
}

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A header value: printable ASCII and spaces, not empty, no leading or trailing space.
void check_header_value(const Where& w, const std::string& value)
{
    if (value.empty() || value.front() == ' ' || value.back() == ' ' ||
        !std::all_of(value.begin(), value.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }))
        w.fail("must be a non-empty header value of printable ASCII characters");
}

// [[headers]]: each table needs `match` and sets `cache_control`, `extra` or both.
Setter header_rules()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[headers]])");
        preset.headers.clear(); // like every array, a later file's rules replace earlier ones
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            HeaderRule rule;
            for (const auto& [key, node] : table) {
                const std::string name(key.str());
                const Where field{w.source, w.key + "." + name, node};
                if (name == "match") {
                    rule.match = globs(field);
                } else if (name == "cache_control") {
                    const auto v = node.value_exact<std::string>();
                    if (!v)
                        field.fail("must be a string");
                    check_header_value(field, *v);
                    rule.cache_control = *v;
                } else if (name == "extra") {
                    const auto* headers = node.as_table();
                    if (!headers)
                        field.fail("must be a table of headers (extra = { \"X-Frame-Options\" = \"DENY\" })");
                    std::set<std::string> seen;
                    for (const auto& [header, value] : *headers) {
                        const std::string header_name(header.str());
                        const Where one{w.source, w.key + ".extra." + header_name, value};
                        if (!is_header_token(header_name))
                            one.fail("is not a valid header name");
                        static const std::set<std::string> k_owned = {
                            "cache-control", "content-encoding", "content-length",    "content-type",
                            "etag",          "last-modified",    "transfer-encoding", "vary"};
                        if (k_owned.count(lower(header_name)))
                            one.fail("is set by cachet from the manifest (use cache_control for Cache-Control)");
                        if (!seen.insert(lower(header_name)).second)
                            one.fail("is given twice");
                        const auto v = value.value_exact<std::string>();
                        if (!v)
                            one.fail("must be a string");
                        check_header_value(one, *v);
                        rule.extra.emplace_back(header_name, *v);
                    }
                    std::sort(rule.extra.begin(), rule.extra.end());
                } else {
                    field.fail("is not a known setting of a header rule (match, cache_control, extra)");
                }
            }
            if (rule.match.empty())
                at.fail("needs match = \"glob\" or a list of globs");
            if (rule.cache_control.empty() && rule.extra.empty())
                at.fail("sets nothing: give cache_control, extra or both");
            preset.headers.push_back(std::move(rule));
        }
    };
}

// [[budgets]]: each table needs `match` and `max`; `name`, `encoding` and `per_file` are optional.
Setter budgets()
{
    return [](Preset& preset, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array || !array->is_array_of_tables())
            w.fail("must be an array of tables ([[budgets]])");
        preset.budgets.clear();
        for (const auto& item : *array) {
            const toml::table& table = *item.as_table();
            const Where at{w.source, w.key, item};
            Budget budget;
            bool has_max = false;
            for (const auto& [key, node] : table) {
                const std::string name(key.str());
                const Where field{w.source, w.key + "." + name, node};
                if (name == "match") {
                    budget.match = globs(field);
                } else if (name == "name") {
                    const auto v = node.value_exact<std::string>();
                    if (!v || v->empty())
                        field.fail("must be a non-empty string");
                    budget.name = *v;
                } else if (name == "max") {
                    has_max = true;
                    if (const auto n = node.value_exact<std::int64_t>()) {
                        if (*n < 0)
                            field.fail("must not be negative");
                        budget.max_bytes = static_cast<std::uint64_t>(*n);
                    } else if (const auto text = node.value_exact<std::string>()) {
                        try {
                            budget.max_bytes = parse_size(*text);
                        } catch (const Error& e) {
                            field.fail(std::string("is not a size: ") + e.what());
                        }
                    } else {
                        field.fail("must be a size in bytes or a string such as \"500K\" (powers of 1024)");
                    }
                } else if (name == "encoding") {
                    const auto v = node.value_exact<std::string>();
                    if (!v)
                        field.fail("must be a string");
                    budget.encoding =
                        pick(field, *v,
                             std::vector<std::pair<std::string, std::optional<Encoding>>>{{"identity", std::nullopt},
                                                                                          {"gzip", Encoding::gzip},
                                                                                          {"br", Encoding::br},
                                                                                          {"zstd", Encoding::zstd}});
                } else if (name == "per_file") {
                    const auto v = node.value_exact<bool>();
                    if (!v)
                        field.fail("must be true or false");
                    budget.per_file = *v;
                } else {
                    field.fail("is not a known setting of a budget (name, match, max, encoding, per_file)");
                }
            }
            if (budget.match.empty())
                at.fail("needs match = \"glob\" or a list of globs");
            if (!has_max)
                at.fail("needs max = a size (\"500K\", or bytes)");
            if (budget.name.empty()) {
                for (const auto& glob : budget.match)
                    budget.name += (budget.name.empty() ? "" : " ") + glob;
            }
            preset.budgets.push_back(std::move(budget));
        }
    };
}

} // namespace cachet::config_keys
