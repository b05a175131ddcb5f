#pragma once
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"

#include <cstddef>
#include <string_view>

namespace cachet {

// How the core tells the outside world what happens; cli/ decides how to print it.
// Calls are serialised by run(): implementations need no locking.
class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void build_started(std::size_t assets) = 0;
    virtual void asset_started(const Asset& asset) = 0;
    virtual void asset_finished(const Asset& asset, const AssetResult& result) = 0;
    virtual void warning(std::string_view message) = 0;
    // A step of the build just ended ("scanned SRC", "manifest published", ...); for timings.
    // May be called from any thread.
    virtual void phase(std::string_view /*name*/) {}
};

} // namespace cachet
