#pragma once

namespace cachet::cli {

// Called by main() first: the arguments use_huge_pages() executes cachet again with.
void remember_arguments(char** argv);

// glibc's malloc backs its heaps with transparent huge pages only when a tunable says so, and
// the dynamic loader reads tunables from the environment once, at exec; mimalloc (the
// executable's malloc) reads MIMALLOC_LARGE_OS_PAGES once, at start. With
// CACHET_HUGE_PAGES=1 in the environment, GLIBC_TUNABLES gets glibc.malloc.hugetlb=1,
// MIMALLOC_LARGE_OS_PAGES is 1 unless set, and /proc/self/exe is executed again with the same arguments (about 3 ms);
// it returns when that is not asked for or fails (nothing changed). Never when the environment sets the tunable already
// (the user's choice), under valgrind (the new image would run outside it) or in a sanitizer build (an allocator of its
// own). Call it before anything is printed or opened. It is not the default: a build of a large site touches tens of MB
// of fresh heap, and 2 MiB pages made the 10,000-file no-op 10% faster at the median but, on a virtual machine whose
// host reclaims free memory (free page reporting), some runs waited 0.5 s and one 476 s for
// their huge pages (docs/benchmarks.md, 2026-12-05).
void use_huge_pages();

} // namespace cachet::cli
