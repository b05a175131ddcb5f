#include "cli/reporter.hpp"

#include "pipeline/model/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
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

std::string human_bytes(std::uint64_t bytes)
{
    static constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", v, k_units[unit]);
    return buffer;
}

ConsoleReporter::ConsoleReporter(Verbosity verbosity) : m_verbosity(verbosity) {}

ConsoleReporter::ConsoleReporter(Verbosity verbosity, std::optional<std::chrono::steady_clock::time_point> timings)
    : m_verbosity(verbosity), m_timings(timings)
{}

void ConsoleReporter::phase(std::string_view name)
{
    if (!m_timings)
        return;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *m_timings).count();
    std::lock_guard lock(m_phase_mutex);
    clear_progress();
    std::fprintf(stderr, "cachet: timing: %9.1f ms  (+%6.1f)  %.*s\n", ms, ms - m_last_phase_ms,
                 static_cast<int>(name.size()), name.data());
    m_last_phase_ms = ms;
}

void ConsoleReporter::build_started(std::size_t assets)
{
    m_total = assets;
    m_start = std::chrono::steady_clock::now();
}

void ConsoleReporter::asset_started(const Asset& asset)
{
    if (m_verbosity != Verbosity::progress)
        return;
    m_current = asset.path;
    draw_progress();
}

void ConsoleReporter::asset_finished(const Asset& asset, const AssetResult& result)
{
    ++m_done;
    const bool failed = result.status == AssetResult::Status::failed;
    if (!failed)
        m_saved += asset.bytes - std::min(asset.bytes, transfer_bytes(result.record));
    const bool quiet = m_verbosity == Verbosity::quiet;
    if (failed || (!quiet && (!result.warnings.empty() || !result.cache_problem.empty())) ||
        (m_verbosity == Verbosity::lines && result.status == AssetResult::Status::built))
        clear_progress(); // a line is printed: the progress line is drawn again below it
    if (!result.cache_problem.empty() && m_verbosity != Verbosity::quiet)
        std::fprintf(stderr, "cachet: warning: %s: %s\n", printable(asset.path).c_str(),
                     printable(result.cache_problem).c_str());
    if (failed) {
        std::fprintf(stderr, "cachet: failed: %s: %s\n", printable(asset.path).c_str(),
                     printable(result.message).c_str());
    } else if (m_verbosity == Verbosity::watch && result.status != AssetResult::Status::built) {
        // reused: its warnings were shown when it was built
    } else if (m_verbosity != Verbosity::quiet) {
        for (const auto& w : result.warnings)
            std::fprintf(stderr, "cachet: warning: %s: %s\n", printable(asset.path).c_str(), printable(w).c_str());
        // Unchanged assets are not listed: a no-op build of a large tree prints its summary only.
        if (m_verbosity == Verbosity::lines && result.status == AssetResult::Status::built)
            std::fprintf(stderr, "built %s (%s, %s -> %s)\n", printable(asset.path).c_str(),
                         std::string(to_string(asset.kind)).c_str(), human_bytes(asset.bytes).c_str(),
                         human_bytes(transfer_bytes(result.record)).c_str());
    }
    if (m_verbosity == Verbosity::progress)
        draw_progress();
}

void ConsoleReporter::warning(std::string_view message)
{
    if (m_verbosity == Verbosity::quiet)
        return;
    clear_progress();
    std::fprintf(stderr, "cachet: warning: %s\n", printable(message).c_str());
}

void ConsoleReporter::finish()
{
    clear_progress();
}

void ConsoleReporter::draw_progress()
{
    // At most 20 redraws a second: a no-op build of a large tree reports thousands of assets.
    const auto now = std::chrono::steady_clock::now();
    if (m_progress_shown && m_done < m_total && now - m_last_draw < std::chrono::milliseconds(50))
        return;
    m_last_draw = now;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    std::string eta = "--:--";
    if (m_done > 0 && m_done < m_total) {
        const auto left =
            static_cast<long>(elapsed / static_cast<double>(m_done) * static_cast<double>(m_total - m_done));
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", left / 60, left % 60);
        eta = buffer;
    }
    std::string current = m_current;
    if (current.size() > 40)
        current = "..." + current.substr(current.size() - 37);
    std::fprintf(stderr, "\r\x1b[2K[%zu/%zu] saved %s  ETA %s  %s", m_done, m_total, human_bytes(m_saved).c_str(),
                 eta.c_str(), current.c_str());
    std::fflush(stderr);
    m_progress_shown = true;
}

void ConsoleReporter::clear_progress()
{
    if (!m_progress_shown)
        return;
    std::fprintf(stderr, "\r\x1b[2K");
    m_progress_shown = false;
}

std::string summary_text(const Summary& summary)
{
    std::uint64_t assets = 0, failed = 0, in = 0, cached = 0;
    std::string out;
    for (const auto& [kind, totals] : summary.kinds) {
        assets += totals.assets;
        failed += totals.failed;
        in += totals.bytes_in;
        cached += totals.cached;
        out += "  " + kind + ": " + std::to_string(totals.assets) + " (" + human_bytes(totals.bytes_in) + ")";
        if (summary.cache)
            out += ", built " + std::to_string(totals.built()) + ", cached " + std::to_string(totals.cached);
        for (const auto& [format, f] : totals.outputs)
            out += ", " + format + " " + std::to_string(f.files) + " = " + human_bytes(f.bytes);
        out += "\n";
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
               " images have AVIF or WebP, " +
               (summary.picture ? std::string("in the pages' <picture> elements")
                                : std::string("served at their fallback URLs by `cachet export nginx` or `caddy` "
                                              "(Accept negotiation; html.picture = true puts them in the pages)"));
        if (summary.images_not_modern > 0)
            out += "; " + std::to_string(summary.images_not_modern) +
                   (summary.images_not_modern == 1 ? " is" : " are") +
                   " served as JPEG, PNG or GIF everywhere (no AVIF or WebP came out smaller)";
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
        kinds[kind] = {{"assets", t.assets}, {"failed", t.failed},     {"built", t.built()},
                       {"cached", t.cached}, {"bytes_in", t.bytes_in}, {"outputs", outputs}};
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
