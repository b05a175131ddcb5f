#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace cachet {

// How a source is processed. unsupported: looks like an image cachet cannot read; it fails
// (or is passed through, if the preset says so) and never reaches the manifest as such.
enum class AssetKind { image, text, passthrough, unsupported };

inline std::string_view to_string(AssetKind kind)
{
    switch (kind) {
    case AssetKind::image: return "image";
    case AssetKind::text: return "text";
    case AssetKind::passthrough: return "passthrough";
    case AssetKind::unsupported: return "unsupported";
    }
    return "?";
}

// One source file of a build.
struct Asset {
    std::string path;     // relative to the source root, '/'-separated
    std::string absolute; // where to read it (a string: a path's parsed parts cost a scan of a large tree)
    AssetKind kind = AssetKind::passthrough;
    std::uint64_t bytes = 0;
    std::int64_t mtime_ns = 0; // modification time, nanoseconds since the epoch
    std::uint64_t inode = 0;
    bool stable = false; // its output keeps its name (keeps_name(), decided once, by the scan)
};

} // namespace cachet
