#include "pipeline/scan.hpp"

#include "pipeline/content_type.hpp"
#include "pipeline/error.hpp"
#include "pipeline/glob.hpp"

#include <algorithm>
#include <sys/stat.h>

namespace cachet {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_image_extensions[] = {"jpg", "jpeg", "jpe", "jfif", "png", "gif",
                                                   "webp", "avif", "tif", "tiff"};
// Image types cachet does not decode (ico is served as a text-like asset).
constexpr std::string_view k_other_image_extensions[] = {"bmp", "heic", "heif", "jxl", "jp2", "j2k", "jpx",
                                                         "psd", "tga", "pnm", "ppm", "pgm", "pbm", "qoi",
                                                         "dng", "cr2", "nef", "arw", "raf", "exr", "hdr"};

template <class Range>
bool contains(const Range& range, std::string_view value)
{
    return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

bool inside(const fs::path& root, const fs::path& p)
{
    auto r = root.begin();
    auto i = p.begin();
    for (; r != root.end(); ++r, ++i)
        if (i == p.end() || *r != *i)
            return false;
    return true;
}

struct Walk {
    const fs::path& canonical_root;
    const Preset& preset;
    const std::vector<std::string>& skip;
    ScanResult& out;
};

void walk(const Walk& w, const fs::path& dir, const std::string& prefix)
{
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec)
        throw io_error(dir.string(), "cannot list folder", ec.value());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec)
            throw io_error(dir.string(), "cannot list folder", ec.value());
        const fs::directory_entry& entry = *it;
        const std::string rel = prefix + entry.path().filename().string();
        const fs::file_status link_status = entry.symlink_status(ec);
        if (fs::is_directory(link_status)) {
            if (!glob_match_any(w.preset.output.ignore, rel + "/") &&
                std::find(w.skip.begin(), w.skip.end(), rel) == w.skip.end())
                walk(w, entry.path(), rel + "/");
            continue;
        }
        if (glob_match_any(w.preset.output.ignore, rel))
            continue;
        if (fs::is_symlink(link_status)) {
            const fs::path target = fs::weakly_canonical(entry.path(), ec);
            if (ec || !inside(w.canonical_root, target)) {
                w.out.warnings.push_back(rel + ": skipped: symbolic link leads outside the source tree");
                continue;
            }
            if (!fs::is_regular_file(fs::status(entry.path(), ec))) {
                w.out.warnings.push_back(rel + ": skipped: symbolic link to something other than a file");
                continue;
            }
        } else if (!fs::is_regular_file(link_status)) {
            w.out.warnings.push_back(rel + ": skipped: not a regular file");
            continue;
        }
        Asset asset;
        asset.path = rel;
        asset.absolute = entry.path();
        asset.kind = classify(rel, w.preset);
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) == 0) {
            asset.bytes = static_cast<std::uint64_t>(st.st_size);
            asset.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
            asset.inode = static_cast<std::uint64_t>(st.st_ino);
        }
        w.out.assets.push_back(std::move(asset));
    }
}

} // namespace

std::string_view to_string(AssetKind kind)
{
    switch (kind) {
    case AssetKind::image: return "image";
    case AssetKind::text: return "text";
    case AssetKind::passthrough: return "passthrough";
    case AssetKind::unsupported: return "unsupported";
    }
    return "?";
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
    walk(Walk{canonical_root, preset, skip, out}, root, "");
    std::sort(out.assets.begin(), out.assets.end(), [](const Asset& a, const Asset& b) { return a.path < b.path; });
    std::sort(out.warnings.begin(), out.warnings.end());
    return out;
}

} // namespace cachet
