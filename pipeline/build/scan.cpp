#include "pipeline/build/scan.hpp"

#include "pipeline/build/outputs.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace cachet {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_image_extensions[] = {"jpg", "jpeg", "jpe",  "jfif", "png",
                                                   "gif", "webp", "avif", "tif",  "tiff"};
// Image types cachet does not decode (ico is served as a text-like asset).
constexpr std::string_view k_other_image_extensions[] = {"bmp", "heic", "heif", "jxl", "jp2", "j2k", "jpx",
                                                         "psd", "tga",  "pnm",  "ppm", "pgm", "pbm", "qoi",
                                                         "dng", "cr2",  "nef",  "arw", "raf", "exr", "hdr"};

template <class Range>
bool contains(const Range& range, std::string_view value)
{
    return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

struct Walk {
    const fs::path& canonical_root;
    const Preset& preset;
    const std::vector<std::string>& skip;
    ScanResult& out;
};

void add_asset(const Walk& w, std::string rel, std::string absolute, const struct stat& st)
{
    Asset asset;
    asset.kind = classify(rel, w.preset);
    asset.path = std::move(rel);
    asset.stable = keeps_name(w.preset, asset.path);
    asset.absolute = std::move(absolute);
    asset.bytes = static_cast<std::uint64_t>(st.st_size);
    asset.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    asset.inode = static_cast<std::uint64_t>(st.st_ino);
    w.out.assets.push_back(std::move(asset));
}

void walk(const Walk& w, int fd, const fs::path& dir, const std::string& prefix);

// Looks at one entry of the open folder dir_fd (at dir / prefix): an asset, a folder to walk,
// or a warning.
void visit(const Walk& w, int dir_fd, const fs::path& dir, const std::string& prefix, const char* name)
{
    std::string rel = prefix;
    rel += name;
    struct stat st {};
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return; // vanished since it was listed
    if (S_ISDIR(st.st_mode)) {
        if (glob_match_any(w.preset.output.ignore, rel + "/") ||
            std::find(w.skip.begin(), w.skip.end(), rel) != w.skip.end())
            return;
        const int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            throw io_error((dir / name).string(), "cannot list folder", errno);
        walk(w, sub, dir / name, rel + "/");
        return;
    }
    if (glob_match_any(w.preset.output.ignore, rel))
        return;
    if (S_ISLNK(st.st_mode)) {
        const fs::path link = dir / name;
        std::error_code ec;
        const fs::path target = fs::weakly_canonical(link, ec);
        if (ec || !is_within(w.canonical_root, target)) {
            w.out.warnings.push_back(rel + ": skipped: symbolic link leads outside the source tree");
            return;
        }
        if (::stat(link.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            w.out.warnings.push_back(rel + ": skipped: symbolic link to something other than a file");
            return;
        }
        add_asset(w, std::move(rel), link.native(), st);
    } else if (S_ISREG(st.st_mode)) {
        std::string absolute;
        absolute.reserve(dir.native().size() + 1 + std::strlen(name));
        absolute += dir.native();
        if (!absolute.empty() && absolute.back() != '/')
            absolute += '/';
        absolute += name;
        add_asset(w, std::move(rel), std::move(absolute), st);
    } else {
        w.out.warnings.push_back(rel + ": skipped: not a regular file");
    }
}

// Walks the open folder fd (closed on return), at dir / prefix: readdir and one fstatat per
// entry, relative to the folder, which is what keeps a no-op build of a large tree fast.
void walk(const Walk& w, int fd, const fs::path& dir, const std::string& prefix)
{
    DIR* d = fdopendir(fd);
    if (!d) {
        const int err = errno;
        close(fd);
        throw io_error(dir.string(), "cannot list folder", err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, closedir);
    while (true) {
        errno = 0;
        const dirent* e = readdir(d);
        if (!e) {
            if (errno != 0)
                throw io_error(dir.string(), "cannot list folder", errno);
            break;
        }
        const std::string_view name = e->d_name;
        if (name != "." && name != "..")
            visit(w, dirfd(d), dir, prefix, e->d_name);
    }
}

} // namespace

bool is_within(const fs::path& outer, const fs::path& inner)
{
    auto o = outer.begin();
    auto i = inner.begin();
    for (; o != outer.end(); ++o, ++i) {
        if (o->empty())
            continue; // trailing separator
        if (i == inner.end() || *o != *i)
            return false;
    }
    return true;
}

bool is_valid_utf8(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        int extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + static_cast<std::size_t>(extra) >= text.size())
            return false;
        for (int k = 1; k <= extra; ++k) {
            const auto d = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
            if ((d & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        static constexpr std::uint32_t k_min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < k_min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += static_cast<std::size_t>(extra) + 1;
    }
    return true;
}

AssetKind classify(std::string_view path, const Preset& preset)
{
    const std::string ext = extension_of(path);
    if (contains(k_image_extensions, ext))
        return AssetKind::image;
    if (contains(preset.text.extensions, ext))
        return AssetKind::text;
    if (contains(k_other_image_extensions, ext))
        return preset.images.unsupported == UnsupportedImages::passthrough ? AssetKind::passthrough
                                                                           : AssetKind::unsupported;
    return AssetKind::passthrough;
}

ScanResult scan_tree(const fs::path& root, const Preset& preset, const std::vector<std::string>& skip)
{
    ScanResult out;
    std::error_code ec;
    const fs::path canonical_root = fs::canonical(root, ec);
    if (ec)
        throw io_error(root.string(), "cannot open source folder", ec.value());
    const int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw io_error(root.string(), "cannot open source folder", errno);
    walk(Walk{canonical_root, preset, skip, out}, fd, root, "");
    std::sort(out.assets.begin(), out.assets.end(), [](const Asset& a, const Asset& b) { return a.path < b.path; });
    std::sort(out.warnings.begin(), out.warnings.end());
    return out;
}

ScanResult rescan(ScanResult before, const fs::path& root, const Preset& preset, const std::vector<std::string>& skip,
                  const std::vector<std::string>& changed)
{
    std::error_code ec;
    const fs::path canonical_root = fs::canonical(root, ec);
    if (ec)
        throw io_error(root.string(), "cannot open source folder", ec.value());
    auto gone = [&](const std::string& path) {
        for (const auto& c : changed)
            if (c.ends_with('/') ? path.starts_with(c) : path == c)
                return true;
        return false;
    };
    ScanResult out = std::move(before); // (its assets stay where they are: most are not looked at)
    std::erase_if(out.warnings, [&](const std::string& w) { return gone(w.substr(0, w.find(':'))); });
    // The sources the events name, found by their paths (the assets are sorted): a file, or
    // what a folder holds.
    std::vector<std::size_t> taken_out; // ascending
    const auto by_path = [](const Asset& a, const Asset& b) { return a.path < b.path; };
    const auto first_not_before = [&](std::string_view path) {
        return static_cast<std::size_t>(
            std::lower_bound(out.assets.begin(), out.assets.end(), path,
                             [](const Asset& a, std::string_view p) { return std::string_view(a.path) < p; }) -
            out.assets.begin());
    };
    for (const auto& c : changed)
        for (std::size_t i = first_not_before(c);
             i < out.assets.size() && (c.ends_with('/') ? out.assets[i].path.starts_with(c) : out.assets[i].path == c);
             ++i)
            taken_out.push_back(i);
    std::sort(taken_out.begin(), taken_out.end());
    taken_out.erase(std::unique(taken_out.begin(), taken_out.end()), taken_out.end());
    ScanResult fresh;
    const Walk w{canonical_root, preset, skip, fresh};
    for (const auto& c : changed) {
        const std::string entry = c.ends_with('/') ? c.substr(0, c.size() - 1) : c;
        const auto slash = entry.rfind('/');
        const std::string prefix = slash == std::string::npos ? "" : entry.substr(0, slash + 1);
        const std::string name = entry.substr(prefix.size());
        const fs::path dir = prefix.empty() ? root : root / prefix;
        const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue; // its folder is gone too
        try {
            visit(w, fd, dir, prefix, name.c_str());
        } catch (...) {
            close(fd);
            throw;
        }
        close(fd);
    }
    std::sort(fresh.assets.begin(), fresh.assets.end(), by_path);
    fresh.assets.erase(std::unique(fresh.assets.begin(), fresh.assets.end(),
                                   [](const Asset& a, const Asset& b) { return a.path == b.path; }),
                       fresh.assets.end());
    out.warnings.insert(out.warnings.end(), std::make_move_iterator(fresh.warnings.begin()),
                        std::make_move_iterator(fresh.warnings.end()));
    std::sort(out.warnings.begin(), out.warnings.end());
    out.warnings.erase(std::unique(out.warnings.begin(), out.warnings.end()), out.warnings.end());
    // The same sources as before when every one looked at again was there and still is (a
    // folder named by the events may have gained or lost any): each takes its place.
    out.same_paths =
        std::none_of(changed.begin(), changed.end(), [](const std::string& c) { return c.ends_with('/'); }) &&
        std::equal(fresh.assets.begin(), fresh.assets.end(), taken_out.begin(), taken_out.end(),
                   [&](const Asset& a, std::size_t i) { return a.path == out.assets[i].path; });
    if (out.same_paths) {
        for (std::size_t k = 0; k < taken_out.size(); ++k)
            out.assets[taken_out[k]] = std::move(fresh.assets[k]);
        return out;
    }
    // Else the ones taken out go, and the ones looked at are merged in (both sorted).
    std::size_t next = 0;
    std::erase_if(out.assets, [&](const Asset& a) {
        const bool taken = next < taken_out.size() && &a == &out.assets[taken_out[next]];
        next += taken ? 1 : 0;
        return taken;
    });
    const auto kept = static_cast<std::ptrdiff_t>(out.assets.size());
    out.assets.insert(out.assets.end(), std::make_move_iterator(fresh.assets.begin()),
                      std::make_move_iterator(fresh.assets.end()));
    std::inplace_merge(out.assets.begin(), out.assets.begin() + kept, out.assets.end(), by_path);
    return out;
}

} // namespace cachet
