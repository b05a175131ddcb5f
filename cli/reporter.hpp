#pragma once
#include "pipeline/build/run.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

namespace cachet::cli {

// progress: a redrawn status line (TTY); lines: a line per built asset; watch: failures and the
// warnings of assets just built, nothing per reused asset; quiet: failures only.
enum class Verbosity { progress, lines, watch, quiet };

// Prints to stderr: a live progress line on a terminal, one line per asset otherwise, or
// only failures when quiet.
class ConsoleReporter final : public Reporter {
public:
    explicit ConsoleReporter(Verbosity verbosity);
    // With timings, each phase() prints the milliseconds since then and since the last phase,
    // whatever the verbosity.
    ConsoleReporter(Verbosity verbosity, std::optional<std::chrono::steady_clock::time_point> timings);
    void build_started(std::size_t assets) override;
    void asset_started(const Asset& asset) override;
    void asset_finished(const Asset& asset, const AssetResult& result) override;
    void warning(std::string_view message) override;
    void phase(std::string_view name) override;
    // Clears the progress line, if one is shown.
    void finish();

private:
    void draw_progress();
    void clear_progress();

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
};

// "1.5 MiB"
std::string human_bytes(std::uint64_t bytes);

// The human summary of a finished build, several lines.
std::string summary_text(const Summary& summary);

// The machine-readable summary printed by --json.
std::string summary_json(const Summary& summary);

// The plan of a dry run, one line per asset.
std::string plan_text(const ScanResult& plan, const Config& config);

// The plan of a dry run as JSON.
std::string plan_json(const ScanResult& plan, const Config& config);

} // namespace cachet::cli
