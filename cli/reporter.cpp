#include "cli/reporter.hpp"

#include "cli/terminal.hpp"
#include "pipeline/build/totals.hpp"
#include "pipeline/model/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <optional>

namespace cachet::cli {
ConsoleReporter::ConsoleReporter(Verbosity verbosity, std::optional<std::chrono::steady_clock::time_point> timings,
                                 Table table)
    : m_verbosity(verbosity), m_timings(timings), m_table(table)
{}

ConsoleReporter::~ConsoleReporter()
{
    clear_progress();
}

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
    m_done = 0;
    m_saved = 0;
    m_rows.clear();
    m_start = std::chrono::steady_clock::now();
}

void ConsoleReporter::asset_started(const Asset& asset)
{
    if (m_verbosity != Verbosity::progress)
        return;
    m_current = asset.path;
    draw_progress();
}

void ConsoleReporter::print_warning(const std::string& text, bool once)
{
    if (!m_shown.insert(text).second && once)
        return;
    clear_progress();
    std::fprintf(stderr, "%s %s\n", terminal::paint("cachet: warning:", terminal::Tone::warning).c_str(), text.c_str());
}

void ConsoleReporter::asset_finished(const Asset& asset, const AssetResult& result)
{
    ++m_done;
    const bool failed = result.status == AssetResult::Status::failed;
    const bool built = result.status == AssetResult::Status::built;
    const bool listed = m_verbosity == Verbosity::lines && built && m_table == Table::no;
    // (A no-op build of a large tree calls this for every source: only what is shown is worked out.)
    const bool weighed = m_verbosity == Verbosity::progress || m_table == Table::yes || listed;
    // (A source reused as the last build left it is weighed by what that build counted of it,
    // without reading its record, for the progress line.)
    const std::optional<Tally> tally =
        weighed && !listed && m_table == Table::no && result.entry ? decode_tally(result.entry->tally) : std::nullopt;
    const Delivered d = weighed && !tally ? delivered(result.final_record()) : Delivered{};
    if (!failed && weighed)
        m_saved += asset.bytes - std::min(asset.bytes, tally ? tally->bytes : d.bytes);
    if (m_table == Table::yes)
        m_rows.push_back({FileReport{asset.path, std::string(to_string(asset.kind)), asset.bytes, d.bytes,
                                     std::string(d.format), d.plain_bytes},
                          output_paths(result.final_record()).size(),
                          failed  ? "failed"
                          : built ? "built"
                                  : "cached"});
    const bool says = failed || (m_verbosity != Verbosity::quiet &&
                                 (listed || !result.cache_problem.empty() || result.has_warnings()));
    const std::string path = says ? printable(asset.path) : std::string();
    if (failed) {
        clear_progress();
        std::fprintf(stderr, "%s %s: %s\n", terminal::paint("cachet: failed:", terminal::Tone::error).c_str(),
                     path.c_str(), printable(result.message).c_str());
    } else if (m_verbosity != Verbosity::quiet) {
        if (!result.cache_problem.empty())
            print_warning(path + ": " + printable(result.cache_problem), false);
        // A watch session shows a reused source's warnings once; a rebuilt one's every time.
        if (result.has_warnings())
            for (const auto& w : result.final_warnings())
                print_warning(path + ": " + printable(w), m_verbosity == Verbosity::watch && !built);
        // Unchanged assets are not listed: a no-op build of a large tree prints its summary only.
        if (listed) {
            clear_progress();
            std::fprintf(stderr, "built %s (%s, %s -> %s %s)\n", path.c_str(),
                         std::string(to_string(asset.kind)).c_str(), human_bytes(asset.bytes).c_str(),
                         human_bytes(d.bytes).c_str(), std::string(d.format).c_str());
        }
    }
    if (m_verbosity == Verbosity::progress)
        draw_progress();
}

void ConsoleReporter::warning(std::string_view message)
{
    if (m_verbosity == Verbosity::quiet)
        return;
    print_warning(printable(message), m_verbosity == Verbosity::watch);
}

void ConsoleReporter::finish()
{
    clear_progress();
    std::sort(m_rows.begin(), m_rows.end(),
              [](const TableRow& a, const TableRow& b) { return a.file.path < b.file.path; });
    if (m_table == Table::yes && !m_rows.empty())
        std::fputs(table_text(m_rows, terminal::columns()).c_str(), stderr);
    m_rows.clear();
}

void ConsoleReporter::draw_progress()
{
    // At most 20 redraws a second: a no-op build of a large tree reports thousands of assets.
    const auto now = std::chrono::steady_clock::now();
    if (m_progress_shown && m_done < m_total && now - m_last_draw < std::chrono::milliseconds(50))
        return;
    m_last_draw = now;
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    std::string eta = "--:--";
    if (m_done > 0 && m_done < m_total) {
        const auto left =
            static_cast<long>(elapsed / static_cast<double>(m_done) * static_cast<double>(m_total - m_done));
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", left / 60, left % 60);
        eta = buffer;
    }
    char head[160];
    std::snprintf(head, sizeof head, "[%zu/%zu] saved %s  ETA %s  ", m_done, m_total, human_bytes(m_saved).c_str(),
                  eta.c_str());
    // One line, never wrapped (a wrapped line cannot be cleared): the name takes what is left
    // of the terminal's width, now (it may have been resized), less a column for the cursor.
    std::string line = head;
    const auto width = static_cast<std::size_t>(std::max(terminal::columns(), 20) - 1);
    if (line.size() < width)
        line += terminal::keep_end(printable(m_current), width - line.size());
    else
        line = line.substr(0, width);
    std::fprintf(stderr, "\r\x1b[2K%s", line.c_str());
    std::fflush(stderr);
    m_progress_shown = true;
}

void ConsoleReporter::clear_progress()
{
    if (!m_progress_shown)
        return;
    std::fprintf(stderr, "\r\x1b[2K");
    std::fflush(stderr);
    m_progress_shown = false;
}

} // namespace cachet::cli
