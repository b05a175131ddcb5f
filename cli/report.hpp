#pragma once
#include "pipeline/build/run.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::cli {

// What a build's user reads once it is over: the summary, in words or JSON; the -v table; the
// plan of a dry run.

// A row of the -v table: a source, what visitors download of it, its outputs.
struct TableRow {
    FileReport file;
    std::size_t outputs = 0; // files written, encoded variants included
    std::string_view status; // "built", "cached", "failed"
};

// The rows of the -v table, aligned, with a header; paths are shortened to fit columns (0: as
// they are).
std::string table_text(const std::vector<TableRow>& rows, int columns);

// The human summary of a finished build, several lines; verbose adds the bytes written per
// format and encoding, every width counted.
std::string summary_text(const Summary& summary, bool verbose = false);

// The machine-readable summary printed by --json.
std::string summary_json(const Summary& summary);

// The plan of a dry run, one line per asset.
std::string plan_text(const ScanResult& plan, const Config& config);

// The plan of a dry run as JSON.
std::string plan_json(const ScanResult& plan, const Config& config);

} // namespace cachet::cli
