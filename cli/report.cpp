#include "cli/report.hpp"

#include "cli/terminal.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>

namespace cachet::cli {
namespace {

std::string planned_outputs(const Asset& asset, const Config& config)
{
    const Preset& p = config.preset;
    std::string out;
    switch (asset.kind) {
    case AssetKind::image: {
        const ImageSettings images = image_settings_for(p, asset.path);
        for (const auto f : images.formats)
            out += std::string(to_string(f)) + " ";
        if (images.fallback)
            out += "+fallback ";
        if (!images.widths.empty()) {
            out += "at widths";
            for (const int w : images.widths)
                out += " " + std::to_string(w);
            out += " (below the image's own) and its own";
        }
        break;
    }
    case AssetKind::text:
        out = "identity";
        if (asset.bytes >= p.text.min_bytes)
            for (const auto e : p.text.encodings)
                out += " " + std::string(to_string(e));
        break;
    case AssetKind::passthrough: out = "copy"; break;
    case AssetKind::unsupported: out = "error: unsupported image type"; break;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

} // namespace

std::string table_text(const std::vector<TableRow>& rows, int columns)
{
    // source, status, size, delivered, as, change | plain, files: the last two go first when
    // the terminal is narrow, then the paths are shortened from the left.
    constexpr std::size_t k_columns = 8, k_kept = 6;
    std::vector<std::array<std::string, k_columns>> cells;
    cells.push_back({"source", "", "size", "delivered", "as", "", "plain", "files"});
    for (const auto& r : rows) {
        const bool failed = r.status == "failed";
        cells.push_back({printable(r.file.path), std::string(r.status), human_bytes(r.file.source_bytes),
                         failed ? "" : human_bytes(r.file.bytes), failed ? "" : r.file.format,
                         failed ? "" : percent_change(r.file.source_bytes, r.file.bytes),
                         failed || r.file.kind != "image" ? "" : human_bytes(r.file.plain_bytes),
                         std::to_string(r.outputs)});
    }
    std::array<std::size_t, k_columns> width{};
    for (const auto& row : cells)
        for (std::size_t c = 0; c < row.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    const auto line_width = [&](std::size_t shown) {
        std::size_t n = 0;
        for (std::size_t c = 0; c < shown; ++c)
            n += 2 + width[c];
        return n;
    };
    std::size_t shown = k_columns;
    constexpr std::size_t k_min_path = 12;
    const auto room = static_cast<std::size_t>(std::max(columns - 1, 0));
    if (columns > 0) {
        if (line_width(shown) - width[0] + k_min_path > room)
            shown = k_kept;
        const std::size_t rest = line_width(shown) - width[0];
        width[0] = std::min(width[0], room > rest + k_min_path ? room - rest : k_min_path);
    }
    std::string out;
    for (const auto& row : cells) {
        const auto pad = [](const std::string& text, std::size_t n, bool right) {
            const std::string fill(n > text.size() ? n - text.size() : 0, ' ');
            return right ? fill + text : text + fill;
        };
        std::string line = "  " + pad(terminal::keep_end(row[0], width[0]), width[0], false);
        for (std::size_t c = 1; c < shown; ++c)
            line += "  " + pad(row[c], width[c], c != 1 && c != 4);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

namespace {

// "a, b, c and 4 more": at most 5 names of a list.
std::string some_of(const std::vector<std::string>& names)
{
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 5; ++i)
        out += (i ? ", " : "") + printable(names[i], 200);
    if (names.size() > 5)
        out += " and " + std::to_string(names.size() - 5) + " more (--json lists them all)";
    return out;
}

// A kind's line: its sources, what a current browser downloads of them at full size, what a
// plain reference gets; then with verbose, the bytes written per format, every width counted.
std::string kind_text(const std::string& kind, const KindTotals& t, std::size_t name_width, bool verbose)
{
    std::string as;
    for (const auto& f : t.delivered_as)
        as += (as.empty() ? "" : "/") + f;
    std::string out = "  " + kind + ":" + std::string(name_width - kind.size(), ' ') + " " + std::to_string(t.assets) +
                      (t.assets == 1 ? " file, " : " files, ") + human_bytes(t.bytes_in);
    if (t.assets > t.failed) {
        out += " -> " + human_bytes(t.delivered) + " (" + percent_change(t.bytes_in, t.delivered) + ")";
        if (kind == "image")
            out += " at full size as " + as + "; a plain <img> gets " + human_bytes(t.plain) + " (" +
                   percent_change(t.bytes_in, t.plain) + ")";
        else if (kind == "text")
            out += " as " + as;
    }
    out += "\n";
    if (verbose && !t.outputs.empty()) {
        out += "    written (every width and variant):";
        for (const auto& [format, f] : t.outputs)
            out += " " + format + " " + std::to_string(f.files) + " = " + human_bytes(f.bytes) + ",";
        out.back() = '\n';
    }
    return out;
}

} // namespace

std::string summary_text(const Summary& summary, bool verbose)
{
    std::uint64_t assets = 0, failed = 0, in = 0, cached = 0;
    std::size_t name_width = 0;
    for (const auto& [kind, totals] : summary.kinds)
        name_width = std::max(name_width, kind.size());
    std::string out;
    for (const auto& [kind, totals] : summary.kinds) {
        assets += totals.assets;
        failed += totals.failed;
        in += totals.bytes_in;
        cached += totals.cached;
        out += kind_text(kind, totals, name_width, verbose);
    }
    if (!summary.largest.empty()) {
        out += "  largest downloads:\n";
        for (const auto& f : summary.largest) {
            const std::string size = human_bytes(f.bytes);
            out += "    " + std::string(size.size() < 10 ? 10 - size.size() : 0, ' ') + size + "  " +
                   printable(f.path, 200) + " (" + f.format + ")\n";
        }
    }
    if (!summary.grown.empty()) {
        std::vector<std::string> names;
        for (const auto& f : summary.grown)
            names.push_back(f.path + " " + percent_change(f.source_bytes, std::max(f.bytes, f.plain_bytes)));
        out += "  " + terminal::paint("bigger than the source", terminal::Tone::warning) + ": " +
               std::to_string(names.size()) + (names.size() == 1 ? " file: " : " files: ") + some_of(names) + "\n";
    }
    const std::string warned = summary.warnings.empty() ? std::string()
                               : summary.warnings.size() == 1
                                   ? std::string(", 1 warning")
                                   : ", " + std::to_string(summary.warnings.size()) + " warnings";
    char head[192];
    std::snprintf(head, sizeof head, "cachet: %" PRIu64 " assets, %" PRIu64 " failed%s, %s in, %.2f s\n", assets,
                  failed, warned.c_str(), human_bytes(in).c_str(), summary.seconds);
    if (summary.cache) {
        const std::uint64_t ok = assets - failed;
        char line[96];
        std::snprintf(line, sizeof line, "  cache: %" PRIu64 " of %" PRIu64 " reused (%.1f%%)\n", cached, ok,
                      ok ? 100.0 * static_cast<double>(cached) / static_cast<double>(ok) : 0.0);
        out += line;
    }
    if (summary.shard)
        out += "  shard " + std::to_string(summary.shard->index) + " of " + std::to_string(summary.shard->count) +
               ": " + std::to_string(summary.skipped) +
               " sources left to the other shards and the final build (cachet build without --shard)\n";
    if (const auto& r = summary.remote) {
        out += "  remote cache: " + std::to_string(r->hits) + " hits, " + std::to_string(r->misses) + " misses, " +
               std::to_string(r->uploads) + " uploads (" + human_bytes(r->bytes_down) + " down, " +
               human_bytes(r->bytes_up) + " up)";
        if (r->errors + r->timeouts + r->damaged > 0)
            out += "; " + std::to_string(r->errors) + " errors, " + std::to_string(r->timeouts) + " timeouts, " +
                   std::to_string(r->damaged) + " damaged";
        out += "\n";
    }
    if (const std::uint64_t images = summary.images_modern + summary.images_not_modern; images > 0) {
        out += "  modern formats: " + std::to_string(summary.images_modern) + " of " + std::to_string(images) +
               " images have a modern format (AVIF, WebP or JPEG XL), " +
               (summary.picture ? std::string("in the pages' <picture> elements")
                                : std::string("served by Accept negotiation (cachet export nginx or caddy); "
                                              "html.picture = true puts them in the pages"));
        if (summary.images_not_modern > 0)
            out += "; " + std::to_string(summary.images_not_modern) +
                   (summary.images_not_modern == 1 ? " has" : " have") +
                   " none smaller than JPEG, PNG or GIF: " + some_of(summary.not_modern);
        out += "\n";
    }
    if (summary.removed)
        out += "  removed " + std::to_string(summary.removed) + " outputs no source makes any more\n";
    out += summary.unpublished ? "  nothing published (--strict, and a file failed): OUT is as the last build left it\n"
                               : "  manifest: " + summary.manifest + "\n";
    if (!summary.budgets.empty()) {
        std::size_t width = 6;
        for (const auto& b : summary.budgets)
            width = std::max(width, b.name.size() + (b.per_file ? 11 : 0));
        out += "  budgets:\n";
        for (const auto& b : summary.budgets) {
            const std::string name = b.name + (b.per_file ? " (per file)" : "");
            char line[512];
            std::snprintf(line, sizeof line, "    %-*s  %-8s  %10s of %10s  %s", static_cast<int>(width), name.c_str(),
                          b.encoding ? std::string(to_string(*b.encoding)).c_str() : "identity",
                          human_bytes(b.bytes).c_str(), human_bytes(b.max_bytes).c_str(), b.over() ? "OVER" : "ok");
            out += line;
            if (b.files == 0)
                out += "  (matches no output)";
            else if (b.per_file)
                out += "  (largest: " + b.largest + ")";
            else
                out += "  (" + std::to_string(b.files) + (b.files == 1 ? " file)" : " files)");
            out += "\n";
        }
    }
    return head + out;
}

namespace {

nlohmann::json remote_json(const Summary& summary)
{
    nlohmann::json j = nlohmann::json::parse(remote_stats_json(*summary.remote));
    j["servers"] = printable(summary.remote_servers);
    return j;
}

} // namespace

std::string summary_json(const Summary& summary)
{
    using nlohmann::json;
    json kinds = json::object();
    std::uint64_t assets = 0, failed = 0, cached = 0, built = 0;
    for (const auto& [kind, t] : summary.kinds) {
        json outputs = json::object();
        for (const auto& [format, f] : t.outputs)
            outputs[format] = {{"files", f.files}, {"bytes", f.bytes}};
        kinds[kind] = {{"assets", t.assets},
                       {"failed", t.failed},
                       {"built", t.built()},
                       {"cached", t.cached},
                       {"bytes_in", t.bytes_in},
                       {"delivered", {{"bytes", t.delivered}, {"plain_bytes", t.plain}, {"as", t.delivered_as}}},
                       {"outputs", outputs}};
        assets += t.assets;
        failed += t.failed;
        cached += t.cached;
        built += t.built();
    }
    json budgets = json::array();
    for (const auto& b : summary.budgets) {
        json entry = {
            {"name", b.name},         {"encoding", b.encoding ? std::string(to_string(*b.encoding)) : "identity"},
            {"per_file", b.per_file}, {"max_bytes", b.max_bytes},
            {"bytes", b.bytes},       {"files", b.files},
            {"over", b.over()}};
        if (b.per_file && !b.largest.empty())
            entry["largest"] = b.largest;
        budgets.push_back(std::move(entry));
    }
    json failures = json::array();
    for (const auto& [path, message] : summary.failures) // (capped: a message may quote a 10 MB URL)
        failures.push_back({{"path", path}, {"message", printable(message)}});
    const auto files_json = [](const std::vector<FileReport>& files) {
        json out = json::array();
        for (const auto& f : files)
            out.push_back({{"path", f.path},
                           {"kind", f.kind},
                           {"bytes_in", f.source_bytes},
                           {"delivered", f.bytes},
                           {"as", f.format},
                           {"plain_bytes", f.plain_bytes}});
        return out;
    };
    json warnings = json::array();
    for (const auto& [path, message] : summary.warnings)
        warnings.push_back({{"path", path.empty() ? json(nullptr) : json(path)}, {"message", printable(message)}});
    const json doc = {
        {"status", failed == 0 ? "ok" : "failed"},
        {"assets", assets},
        {"failed", failed},
        {"kinds", kinds},
        {"failures", failures},
        {"warnings", warnings},
        {"built", built},
        {"cached", cached},
        {"published", !summary.unpublished},
        {"images_modern", summary.images_modern},
        {"images_not_modern", summary.images_not_modern},
        {"not_modern", summary.not_modern},
        {"largest", files_json(summary.largest)},
        {"grown", files_json(summary.grown)},
        {"large", files_json(summary.large)},
        {"cache_hit_rate",
         summary.cache && assets > failed
             ? std::round(10000.0 * static_cast<double>(cached) / static_cast<double>(assets - failed)) / 10000.0
             : 0.0},
        {"cache_problem", summary.cache_problem.empty() ? json(nullptr) : json(printable(summary.cache_problem))},
        {"remote_cache", summary.remote ? remote_json(summary) : json(nullptr)},
        {"shard", summary.shard ? json{{"index", summary.shard->index},
                                       {"count", summary.shard->count},
                                       {"left_to_others", summary.skipped}}
                                : json(nullptr)},
        {"removed", summary.removed},
        {"budgets", budgets},
        {"manifest", summary.manifest},
        {"elapsed_seconds", std::round(summary.seconds * 1000) / 1000}};
    // A failure may name a file whose name is not UTF-8: show it with U+FFFD rather than throw.
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string plan_text(const ScanResult& plan, const Config& config)
{
    std::string out;
    for (const auto& a : plan.assets)
        out += a.path + "  " + std::string(to_string(a.kind)) + "  " + human_bytes(a.bytes) + "  -> " +
               planned_outputs(a, config) + "\n";
    out += std::to_string(plan.assets.size()) + " assets would be built into " + config.output.string() +
           " (dry run: nothing written)\n";
    return out;
}

std::string plan_json(const ScanResult& plan, const Config& config)
{
    using nlohmann::json;
    json assets = json::array();
    for (const auto& a : plan.assets)
        assets.push_back({{"path", a.path},
                          {"kind", to_string(a.kind)},
                          {"bytes", a.bytes},
                          {"outputs", planned_outputs(a, config)}});
    json warnings = json::array();
    for (const auto& w : plan.warnings) // (capped: a warning may quote a name or a URL)
        warnings.push_back(printable(w));
    return json({{"dry_run", true}, {"assets", assets}, {"warnings", warnings}})
               .dump(2, ' ', false, json::error_handler_t::replace) +
           "\n";
}

} // namespace cachet::cli
