#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/publish/manifest.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// How one [[budgets]] entry came out.
struct BudgetResult {
    std::string name;
    std::optional<Encoding> encoding; // nullopt: identity
    bool per_file = false;
    std::uint64_t max_bytes = 0;
    std::uint64_t bytes = 0; // the total, or (per_file) the largest file
    std::size_t files = 0;   // output files measured
    std::string largest;     // per_file: the output path of the largest file
    bool over() const { return bytes > max_bytes; }
};

// The size a client accepting encoding downloads for out: that variant's bytes if it has
// one, else the file's own.
std::uint64_t size_at(const OutputFile& out, std::optional<Encoding> encoding);

// Measures every budget of preset on records (the outputs whose path, or whose source's path,
// matches one of the budget's globs), in the budgets' order.
std::vector<BudgetResult> check_budgets(const Preset& preset, const std::vector<const AssetRecord*>& records);

} // namespace cachet
