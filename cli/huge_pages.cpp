#include "cli/huge_pages.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <unistd.h>

namespace cachet::cli {
namespace {

char** g_arguments = nullptr;

std::optional<std::string> environment(const char* name)
{
    const char* value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
}

} // namespace

void remember_arguments(char** argv)
{
    g_arguments = argv;
}

void use_huge_pages()
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    const std::optional<std::string> before = environment("GLIBC_TUNABLES");
    const std::optional<std::string> asked = environment("CACHET_HUGE_PAGES");
    if (!g_arguments || asked != "1" || before.value_or("").find("glibc.malloc.hugetlb") != std::string::npos ||
        environment("LD_PRELOAD").value_or("").find("vgpreload") != std::string::npos)
        return;
    const std::string wanted = (before && !before->empty() ? *before + ":" : "") + "glibc.malloc.hugetlb=1";
    if (setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0)
        return;
    // mimalloc, the executable's malloc (CMakeLists.txt), reads its options at start too.
    const bool mimalloc_set = environment("MIMALLOC_LARGE_OS_PAGES").has_value();
    if (!mimalloc_set)
        setenv("MIMALLOC_LARGE_OS_PAGES", "1", 1);
    execv("/proc/self/exe", g_arguments);
    if (before) // it failed: the environment as it was
        setenv("GLIBC_TUNABLES", before->c_str(), 1);
    else
        unsetenv("GLIBC_TUNABLES");
    if (!mimalloc_set)
        unsetenv("MIMALLOC_LARGE_OS_PAGES");
#endif
}

} // namespace cachet::cli
