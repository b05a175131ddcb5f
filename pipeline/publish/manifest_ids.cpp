#include "pipeline/publish/manifest.hpp"

#include "pipeline/model/hash.hpp"

#include <algorithm>

// A manifest's build id and the names of its parts: hashes of a line per source.
namespace cachet {

namespace {

// What build_id_of() hashes, per entry: its source, a NUL, the SHA-256 (hex) of its fragment,
// a newline.
void append_id_line(std::string& lines, const ManifestEntry& e)
{
    lines += e.source;
    lines += '\0';
    if (e.digest.empty())
        lines += sha256_hex(as_bytes(e.fragment));
    else
        lines += e.digest;
    lines += '\n';
}

// The id of the entries from begin to end (20 hex digits of the SHA-256 of their lines), the
// lines made a buffer at a time in lines (10 MB of them at 100,000 sources).
std::string group_id(const ManifestEntry* begin, const ManifestEntry* end, std::string& lines)
{
    constexpr std::size_t k_buffer = std::size_t{1} << 16;
    lines.clear();
    lines.reserve(k_buffer + 4096);
    Sha256Stream hash;
    for (const ManifestEntry* e = begin; e != end; ++e) {
        append_id_line(lines, *e);
        if (lines.size() >= k_buffer || e + 1 == end) {
            hash.update(as_bytes(lines));
            lines.clear();
        }
    }
    return hash.finish().substr(0, k_build_id_length);
}

} // namespace

std::string build_id_of(const std::vector<ManifestEntry>& entries)
{
    Sha256Stream ids;
    std::string lines;
    for (const auto& [b, e] : manifest_part_ranges(entries, k_build_id_group))
        ids.update(as_bytes(group_id(entries.data() + b, entries.data() + e, lines) + "\n"));
    return ids.finish().substr(0, k_build_id_length);
}

std::vector<std::pair<std::size_t, std::size_t>> manifest_part_ranges(const std::vector<ManifestEntry>& entries,
                                                                      std::size_t mean)
{
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (i + 1 == entries.size() || (mean != 0 && fnv1a(entries[i].source) % mean == 0)) {
            ranges.emplace_back(begin, i + 1);
            begin = i + 1;
        }
    return ranges;
}

std::string manifest_part_file(const ManifestEntry* begin, const ManifestEntry* end)
{
    std::string lines;
    return group_id(begin, end, lines) + ".json";
}

std::vector<ManifestCut> cut_manifest(const std::vector<ManifestEntry>& entries, std::size_t mean,
                                      std::string& build_id,
                                      const std::function<std::optional<std::string>(std::size_t, std::size_t)>& known)
{
    // Each part's lines are hashed as they are made, a buffer at a time, unless the last
    // build's part of the same entries gives its id. Parts cut as the build id's groups are
    // give it their ids; others leave it to build_id_of().
    const bool groups = mean == k_build_id_group;
    Sha256Stream ids;
    std::string lines;
    std::vector<ManifestCut> cuts;
    for (const auto& [b, e] : manifest_part_ranges(entries, mean)) {
        std::optional<std::string> file;
        if (known && std::all_of(entries.begin() + static_cast<std::ptrdiff_t>(b),
                                 entries.begin() + static_cast<std::ptrdiff_t>(e),
                                 [](const ManifestEntry& x) { return x.unchanged; }))
            file = known(b, e);
        if (!file)
            file = group_id(entries.data() + b, entries.data() + e, lines) + ".json";
        if (groups)
            ids.update(as_bytes(file->substr(0, k_build_id_length) + "\n"));
        cuts.push_back({b, e, std::move(*file)});
    }
    build_id = groups ? ids.finish().substr(0, k_build_id_length) : build_id_of(entries);
    return cuts;
}

} // namespace cachet
