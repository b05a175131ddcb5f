#pragma once
#include "cli/report.hpp"
#include "pipeline/build/run.hpp"
#include "pipeline/model/bytes.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace cachet::cli {

// progress: a redrawn status line (TTY); lines: a line per built asset; watch: failures and the
// warnings of assets just built, each other warning once per session; quiet: failures only.
enum class Verbosity { progress, lines, watch, quiet };

// Prints to stderr: a live progress line on a terminal, one line per asset otherwise, or
// only failures when quiet; with a table, a row per asset once the build is over (-v).
class ConsoleReporter final : public Reporter {
public:
    enum class Table { no, yes };
    // With timings, each phase() prints the milliseconds since then and since the last phase,
    // whatever the verbosity.
    explicit ConsoleReporter(Verbosity verbosity,
                             std::optional<std::chrono::steady_clock::time_point> timings = std::nullopt,
                             Table table = Table::no);
    ~ConsoleReporter() override; // clears the progress line (an interrupted build's too)
    ConsoleReporter(const ConsoleReporter&) = delete;
    ConsoleReporter& operator=(const ConsoleReporter&) = delete;
    void build_started(std::size_t assets) override;
    void asset_started(const Asset& asset) override;
    void asset_finished(const Asset& asset, const AssetResult& result) override;
    void warning(std::string_view message) override;
    void phase(std::string_view name) override;
    // Clears the progress line, if one is shown, and prints the table, if one was asked for.
    void finish();

private:
    void draw_progress();
    void clear_progress();
    // Prints "cachet: warning: ..." unless this session already showed it and once is set.
    void print_warning(const std::string& text, bool once);

    Verbosity m_verbosity;
    std::size_t m_total = 0;
    std::size_t m_done = 0;
    std::uint64_t m_saved = 0;
    std::string m_current;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
    bool m_progress_shown = false;
    std::optional<std::chrono::steady_clock::time_point> m_timings;
    std::mutex m_phase_mutex;
    double m_last_phase_ms = 0;
    Table m_table;
    std::vector<TableRow> m_rows;
    std::unordered_set<std::string> m_shown; // the warnings shown so far (watch: once per session)
};

} // namespace cachet::cli
