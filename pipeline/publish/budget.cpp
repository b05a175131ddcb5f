#include "pipeline/publish/budget.hpp"

#include "pipeline/fs/glob.hpp"

#include <algorithm>

namespace cachet {

std::uint64_t size_at(const OutputFile& out, std::optional<Encoding> encoding)
{
    if (encoding)
        for (const auto& e : out.encodings)
            if (e.encoding == *encoding)
                return e.bytes;
    return out.bytes;
}

std::vector<BudgetResult> check_budgets(const Preset& preset, const std::vector<const AssetRecord*>& records)
{
    std::vector<BudgetResult> results;
    for (const auto& budget : preset.budgets) {
        BudgetResult r{budget.name, budget.encoding, budget.per_file, budget.max_bytes, 0, 0, {}};
        for (const AssetRecord* record : records) {
            const bool source_matches = glob_match_any(budget.match, record->source);
            for (const auto& out : record->outputs) {
                if (out.original) // pages load the fingerprinted outputs; originals only answer old URLs
                    continue;
                if (!source_matches && !glob_match_any(budget.match, out.path))
                    continue;
                const std::uint64_t size = size_at(out, budget.encoding);
                ++r.files;
                if (!budget.per_file) {
                    r.bytes += size;
                } else if (size > r.bytes || r.largest.empty()) {
                    r.bytes = size;
                    r.largest = out.path;
                }
            }
        }
        results.push_back(std::move(r));
    }
    return results;
}

} // namespace cachet
