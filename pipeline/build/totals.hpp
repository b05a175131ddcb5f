#pragma once
#include "pipeline/build/result.hpp"
#include "pipeline/build/summary.hpp"
#include "pipeline/fs/scan.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace cachet {

// Summary::kinds and failures, counted in arrays (by kind, and by format or encoding: a build
// adds up 10,000s of assets) and named once at the end.
class Totals {
public:
    void add(const Asset& asset, const AssetResult& result, Summary& summary);
    void name(Summary& summary) const;

private:
    static constexpr std::size_t k_identity = 5; // after the 5 ImageFormats; then the 3 Encodings
    static_assert(static_cast<std::size_t>(ImageFormat::gif) + 1 == k_identity &&
                      static_cast<std::size_t>(Encoding::gzip) == 2 &&
                      static_cast<std::size_t>(AssetKind::unsupported) == 3,
                  "Totals counts every kind, format and encoding in an array slot");
    struct Kind {
        KindTotals totals;
        std::array<FormatTotals, k_identity + 4> outputs{};
    };
    std::array<Kind, 4> m_kinds{}; // by AssetKind
};

// The counts of a build, as JSON, for `cachet cache stats`.
std::string last_build_json(const Summary& summary);

} // namespace cachet
