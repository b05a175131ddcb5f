// image_stack() for the cachet executable: the image files are built into the module
// cachet-images.so, beside it in a build tree or in <prefix>/lib/cachet once installed, loaded
// the first time a build has an image to make.
#include "pipeline/image/image_stack.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/version.hpp"

#include "module_interface.hpp"

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace cachet {
namespace {

constexpr std::string_view k_module = "cachet-images.so";
constexpr std::string_view k_record_magic = "cachet-image-stack 1";

std::atomic<const ImageStack*> g_loaded{nullptr};

// Where the module may be, in order: beside the executable (a build tree, or a copy made with
// it), then <prefix>/lib/cachet for an executable in <prefix>/bin. /proc/self/exe is the real
// path, so a symbolic link to the executable (on PATH, say) finds them too.
std::vector<fs::path> module_places()
{
    std::error_code ec;
    const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
    const fs::path folder = ec ? fs::current_path() : executable.parent_path();
    return {folder / k_module, folder.parent_path() / "lib" / "cachet" / k_module};
}

const ImageStack& load()
{
    const std::vector<fs::path> places = module_places();
    const auto found = std::find_if(places.begin(), places.end(), [](const fs::path& p) {
        std::error_code ec;
        return fs::is_regular_file(p, ec);
    });
    if (found == places.end())
        throw Error(ErrorKind::install,
                    "cachet's image module " + std::string(k_module) + " is not installed (looked for " +
                        places[0].string() + " and " + places[1].string() +
                        "): install cachet with its module (cmake --install, or the .deb), or put " +
                        std::string(k_module) + " beside the executable");
    const fs::path& path = *found;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        throw Error(ErrorKind::install, "cannot load cachet's image module: " + std::string(dlerror()));
    // A module from another build of cachet lays its table out otherwise: calling into it could
    // crash, so it is refused by the interface it names before anything else is called.
    using Interface = const char* (*)();
    const auto interface = reinterpret_cast<Interface>(dlsym(handle, "cachet_image_module_interface"));
    const std::string theirs = interface ? interface() : "none";
    if (theirs != CACHET_MODULE_INTERFACE)
        throw Error(ErrorKind::install, printable(path.string()) + " is from another build of cachet (its interface " +
                                            printable(theirs.substr(0, 12)) + ", this executable's " +
                                            std::string(CACHET_MODULE_INTERFACE).substr(0, 12) +
                                            "): install the executable and its module together");
    using Entry = const ImageStack* (*)();
    const auto entry = reinterpret_cast<Entry>(dlsym(handle, "cachet_image_stack_v1"));
    if (!entry)
        throw Error(ErrorKind::install, path.string() + " is not cachet's image module (no cachet_image_stack_v1)");
    const ImageStack& stack = *entry();
    stack.check_versions();
    g_loaded = &stack;
    return stack;
}

// "device inode size mtime" of the file at path (symbolic links followed), or "-".
std::string identity(const char* path)
{
    struct stat st {};
    if (::stat(path, &st) != 0)
        return "-";
    std::ostringstream out;
    out << st.st_dev << ' ' << st.st_ino << ' ' << st.st_size << ' ' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec;
    return out.str();
}

// What else decides which libraries a dlopen finds.
std::string environment()
{
    std::string out = "env";
    for (const char* name : {"LD_PRELOAD", "LD_LIBRARY_PATH"}) {
        const char* value = std::getenv(name);
        out += std::string("\t") + name + "=" + (value ? value : "");
    }
    return out;
}

// One "identity<TAB>path" line per file mapped into the process: the executable, the module and
// every library loaded with them.
std::string loaded_files()
{
    std::string out = identity("/proc/self/exe") + "\t/proc/self/exe\n";
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            if (info->dlpi_name && info->dlpi_name[0] == '/')
                *static_cast<std::string*>(data) += identity(info->dlpi_name) + "\t" + info->dlpi_name + "\n";
            return 0;
        },
        &out);
    return out;
}

// The versions line the record at path holds, if every file it lists is unchanged.
std::optional<std::string> recorded_versions(const fs::path& path)
{
    std::string text;
    try {
        const Bytes bytes = read_file(path);
        text.assign(bytes.begin(), bytes.end());
    } catch (const Error&) {
        return std::nullopt;
    }
    std::istringstream in(text);
    std::string magic, env, versions, line;
    if (!std::getline(in, magic) || magic != k_record_magic || !std::getline(in, env) || env != environment() ||
        !std::getline(in, versions))
        return std::nullopt;
    bool any = false;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos || line.compare(0, tab, identity(line.c_str() + tab + 1)) != 0)
            return std::nullopt;
        any = true;
    }
    if (!any)
        return std::nullopt;
    return versions;
}

} // namespace

const ImageStack& image_stack()
{
    static const ImageStack& stack = load();
    return stack;
}

std::string image_library_versions(const fs::path& cache_dir)
{
    if (const ImageStack* loaded = g_loaded.load())
        return joined_versions(loaded->library_versions());
    const fs::path record = cache_dir / "image-stack";
    if (!cache_dir.empty())
        if (auto versions = recorded_versions(record))
            return *versions;
    std::string versions = joined_versions(image_stack().library_versions());
    if (!cache_dir.empty()) {
        const std::string text =
            std::string(k_record_magic) + "\n" + environment() + "\n" + versions + "\n" + loaded_files();
        try {
            write_file_atomic(record, as_bytes(text), Durability::cache);
        } catch (const Error&) {
            // a read-only cache: the versions are read from the libraries again next time
        }
    }
    return versions;
}

} // namespace cachet
