#pragma once
#include "pipeline/build/run.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/cache/cache.hpp"

#include <string>

namespace cachet {

struct BuildMemory::Kept {
    bool valid = false; // false: nothing kept yet, or the last build did not complete
    ScanResult scan;
    BuildIndex index;
    std::string document; // the memory the manifest is rendered into, kept for the next build
};

} // namespace cachet
