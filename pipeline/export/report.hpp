#pragma once
#include "pipeline/model/record.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cachet {

struct ReportOptions {
    std::filesystem::path out_dir;    // OUT: the outputs are read from here
    std::filesystem::path source_dir; // SRC, for the Butteraugli distances; empty: none
    // The images' bytes shown in the page stop here; later images are listed without pictures.
    std::uint64_t embed_budget = std::uint64_t{64} << 20;
};

// `cachet report`: one self-contained HTML page (no external resource: images as data: URIs,
// styles inline) showing, per image of records, the source beside each format at its widest
// width with its bytes and, with a source folder, its Butteraugli 3-norm distance from the
// source; flags for an output bigger than its source and for an image that no browser gets in
// a modern format; then the texts' sizes and savings. Everything quoted from the manifest is
// HTML-escaped. Throws Error(io) if an output cannot be read; a source that cannot be read or
// changed since the build (another digest) gets no distance and says so.
std::string report_html(const std::vector<AssetRecord>& records, const ReportOptions& options);

} // namespace cachet
