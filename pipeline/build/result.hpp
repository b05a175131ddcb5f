#pragma once
#include "pipeline/cache/cache.hpp"
#include "pipeline/publish/manifest.hpp"

#include <string>
#include <vector>

namespace cachet {

// How one asset of a build ended.
struct AssetResult {
    enum class Status { built, cached, failed };
    Status status = Status::built;
    AssetRecord record;                // outputs, when built
    std::string message;               // why, when failed
    std::vector<std::string> warnings; // non-fatal remarks about this asset
    std::string cache_problem;         // a damaged cache entry found (and rebuilt) for this asset
    // Set when the last build's outputs are reused as its index entry holds them: then the
    // record, the warnings and the AssetState are that entry's, which stays where it is (a
    // watch rebuild of 100,000 sources copies and moves none of them), and record, warnings
    // and the AssetState stay empty. Read them through the functions below.
    const IndexEntry* entry = nullptr;
    bool entry_warned = false; // with entry: whether its warnings are not empty

    bool has_warnings() const { return entry ? entry_warned : !warnings.empty(); }

    // (An entry read from the index's snapshot is decoded by the first call: what reads every
    // source's looks first for what the index entry holds without it.)
    const AssetRecord& final_record() const { return entry ? entry->entry.get().record : record; }
    const std::vector<std::string>& final_warnings() const { return entry ? entry->entry.get().warnings : warnings; }

    // Whether one of its output files (an output or an encoding) is at path: for a reused
    // source, from its index entry's list of outputs, so that no record is decoded to say no.
    bool names_output(std::string_view path) const
    {
        if (entry && !entry->outputs.empty())
            return !each_output(entry->outputs, [&](std::string_view p, const FileStat&) { return p != path; });
        for (const auto& o : final_record().outputs) {
            if (o.path == path)
                return true;
            for (const auto& e : o.encodings)
                if (e.path == path)
                    return true;
        }
        return false;
    }
};

} // namespace cachet
