#pragma once
#include "pipeline/config/config.hpp"

#include <cstdint>

namespace cachet::cli {

// The size of the last build's index from which a build runs faster in huge pages.
inline constexpr std::uint64_t k_huge_pages_index_bytes = std::uint64_t{8} << 20; // ~3,500 sources

// Called by main() first: the arguments use_huge_pages() executes cachet again with.
void remember_arguments(char** argv);

// glibc's malloc backs its heaps with transparent huge pages only when a tunable says so, and
// the dynamic loader reads tunables from the environment once, at exec. A build of a large
// site first touches all it allocates: at 10,000 files, a no-op decodes a 22 MB index (mapped,
// not copied) into some 48 MB of records, 12,000 page faults of 4 KiB; in 2 MiB pages that is
// some 24 (a no-op in 74 ms instead of 85). Starting again costs about 3 ms, so this is done
// only when the last build into config.output left an index of k_huge_pages_index_bytes or
// more in the cache:
// then GLIBC_TUNABLES gets glibc.malloc.hugetlb=1 and /proc/self/exe is executed again with
// the same arguments. It returns when that is not to be done or fails (nothing changed).
// CACHET_HUGE_PAGES=1 does it whatever the index, =0 never. Never either when the environment
// sets the tunable already (the user's choice), under valgrind (the new image would run
// outside it) or in a sanitizer build (an allocator of its own). Call it before anything is
// printed or opened.
void use_huge_pages(const Config& config);

} // namespace cachet::cli
