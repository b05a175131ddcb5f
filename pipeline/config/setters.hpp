#pragma once
// How the keys of a preset file are set (config/*.cpp; not part of the library's interface):
// one Setter per dotted key, made by the helpers below, which check the TOML value and name
// file:line and the key when it is wrong.
#include "pipeline/config/config.hpp"
#include "pipeline/model/error.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <locale>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cachet::config_keys {

struct Where {
    const std::string& source;
    std::string key;
    const toml::node& node;

    [[noreturn]] void fail(const std::string& what) const
    {
        std::ostringstream out;
        out << source << ':' << node.source().begin.line << ": " << key << ' ' << what;
        throw Error(ErrorKind::config, out.str());
    }
};

using Setter = std::function<void(Preset&, const Where&)>;

template <class Field>
Setter integer(Field field, std::int64_t lo, std::int64_t hi)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::int64_t>();
        if (!v || *v < lo || *v > hi)
            w.fail("must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
        field(p) = static_cast<std::remove_reference_t<decltype(field(p))>>(*v);
    };
}

// A finite number (integers too) from lo to hi, or up to but not including hi when hi_open;
// what says what it is. Written so that NaN and the infinities fail every comparison.
template <class Field>
Setter number(Field field, double lo, double hi, bool hi_open, const std::string& what)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value<double>();
        const bool in = v && std::isfinite(*v) && *v >= lo && (hi_open ? *v < hi : *v <= hi);
        if (!in) {
            std::ostringstream range;
            range.imbue(std::locale::classic());
            range << "must be a number from " << lo << (hi_open ? " up to (not including) " : " to ") << hi << what;
            w.fail(range.str());
        }
        field(p) = *v;
    };
}

// An integer 0..100 or "auto".
template <class Quality, class Mode>
Setter quality(Quality quality_field, Mode mode_field)
{
    return [=](Preset& p, const Where& w) {
        if (const auto text = w.node.value_exact<std::string>(); text && *text == "auto") {
            mode_field(p) = QualityMode::automatic;
            return;
        }
        const auto v = w.node.value_exact<std::int64_t>();
        if (!v || *v < 0 || *v > 100)
            w.fail("must be an integer from 0 to 100 or \"auto\"");
        quality_field(p) = static_cast<int>(*v);
        mode_field(p) = QualityMode::fixed;
    };
}

template <class Field>
Setter boolean(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<bool>();
        if (!v)
            w.fail("must be true or false");
        field(p) = *v;
    };
}

template <class Field>
Setter string(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::string>();
        if (!v)
            w.fail("must be a string");
        field(p) = *v;
    };
}

// A time in milliseconds: a number of seconds, or a string such as "250ms", "2s", "1m".
template <class Field>
Setter milliseconds(Field field, std::int64_t lo_ms, std::int64_t hi_ms)
{
    return [=](Preset& p, const Where& w) {
        std::int64_t ms = -1;
        if (const auto n = w.node.value_exact<std::int64_t>(); n && *n >= 0 && *n <= hi_ms / 1000)
            ms = *n * 1000;
        else if (const auto text = w.node.value_exact<std::string>()) {
            try {
                ms = parse_milliseconds(*text);
            } catch (const Error& e) {
                w.fail(std::string("is not a duration: ") + e.what());
            }
        } else {
            w.fail("must be a duration: seconds, or a string such as \"250ms\", \"2s\", \"1m\"");
        }
        if (ms < lo_ms || ms > hi_ms)
            w.fail("must be between " + std::to_string(lo_ms) + " ms and " + std::to_string(hi_ms / 1000) + " s");
        field(p) = ms;
    };
}

inline std::vector<std::string> string_array(const Where& w)
{
    const auto* array = w.node.as_array();
    if (!array)
        w.fail("must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : *array) {
        const auto v = item.value_exact<std::string>();
        if (!v)
            Where{w.source, w.key, item}.fail("must contain only strings");
        out.push_back(*v);
    }
    return out;
}

template <class Field>
Setter widths(Field field)
{
    return [=](Preset& p, const Where& w) {
        const auto* array = w.node.as_array();
        if (!array)
            w.fail("must be an array of widths in pixels");
        std::vector<int> out;
        for (const auto& item : *array) {
            const auto v = item.value_exact<std::int64_t>();
            if (!v || *v < 1 || *v > 65535)
                Where{w.source, w.key, item}.fail("must contain only integers from 1 to 65535");
            out.push_back(static_cast<int>(*v));
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        field(p) = out;
    };
}

template <class Field>
Setter strings(Field field)
{
    return [=](Preset& p, const Where& w) { field(p) = string_array(w); };
}

// A string or an array of strings from a fixed set of names, mapped to enum values.
template <class Enum>
Enum pick(const Where& w, const std::string& name, const std::vector<std::pair<std::string, Enum>>& choices)
{
    std::string list;
    for (const auto& [n, e] : choices) {
        if (n == name)
            return e;
        list += (list.empty() ? "" : ", ") + n;
    }
    w.fail("has unknown value \"" + name + "\" (expected one of: " + list + ")");
}

template <class Field, class Enum>
Setter choice(Field field, std::vector<std::pair<std::string, Enum>> choices)
{
    return [=](Preset& p, const Where& w) {
        const auto v = w.node.value_exact<std::string>();
        if (!v)
            w.fail("must be a string");
        field(p) = pick(w, *v, choices);
    };
}

template <class Field, class Enum>
Setter choices(Field field, std::vector<std::pair<std::string, Enum>> names)
{
    return [=](Preset& p, const Where& w) {
        std::vector<Enum> out;
        for (const auto& n : string_array(w)) {
            const Enum e = pick(w, n, names);
            if (std::find(out.begin(), out.end(), e) != out.end())
                w.fail("lists \"" + n + "\" twice");
            out.push_back(e);
        }
        field(p) = out;
    };
}

// `match`: a glob or a non-empty list of globs.
inline std::vector<std::string> globs(const Where& w)
{
    if (const auto one = w.node.value_exact<std::string>())
        return {*one};
    auto list = string_array(w);
    if (list.empty())
        w.fail("must name at least one glob");
    return list;
}

// [[images.rules]], [[headers]] and [[budgets]] (config/rules.cpp).
Setter image_rules();
Setter header_rules();
Setter budgets();

// Every key a preset file may set, by dotted name (config/keys.cpp).
const std::map<std::string, Setter>& setters();

// Applies the keys of table (at prefix) to preset; source names the file in messages. Throws
// Error(config) for an unknown key or a bad value.
// node as TOML on one line: "[640, 750]", "{ tune = \"ssim\" }", "\"1G\"", "0.1".
std::string toml_text(const toml::node& node);

void apply_table(Preset& preset, const toml::table& table, const std::string& prefix, const std::string& source,
                 std::string_view skip = {});

} // namespace cachet::config_keys
