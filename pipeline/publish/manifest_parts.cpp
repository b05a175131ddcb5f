#include "pipeline/publish/manifest_parts.hpp"

#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/retention.hpp"

#include <algorithm>
#include <set>

namespace cachet {
namespace {

namespace fs = std::filesystem;

// A part file's name: 20 hex digits and ".json" (manifest_part_file()).
bool part_file_name(std::string_view name)
{
    return name.size() == 25 && name.ends_with(".json") && std::all_of(name.begin(), name.begin() + 20, [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

constexpr std::size_t k_largest_top = std::size_t{64} << 20; // a top is small: beyond, a manifest in one file

} // namespace

ManifestParts::ManifestParts(const FileSystem& fs, fs::path out, const fs::path& manifest, FileStat recorded)
    : m_fs(fs), m_out(std::move(out)), m_manifest(manifest), m_folder(manifest.parent_path()),
      m_parts(manifest_parts_folder(manifest.filename().string())), m_recorded(recorded)
{}

std::optional<std::map<std::string, ManifestPart>> ManifestParts::trusted() const
{
    if (m_recorded.mtime_ns == 0 || m_fs.stat(m_manifest) != m_recorded)
        return std::nullopt;
    return parts_of_top();
}

std::map<std::string, ManifestPart> ManifestParts::listed() const
{
    return parts_of_top().value_or(std::map<std::string, ManifestPart>());
}

std::optional<std::map<std::string, ManifestPart>> ManifestParts::parts_of_top() const
{
    try {
        const auto st = m_fs.stat(m_manifest);
        if (!st || st->size > k_largest_top)
            return std::nullopt;
        const Bytes text = m_fs.read(m_manifest);
        if (!as_text(text).starts_with("{\"build_id\":")) // a manifest in one file begins with its assets
            return std::nullopt;
        ManifestHead head;
        if (!parse_manifest(as_text(text), m_manifest.string(), &head).empty())
            return std::nullopt;
        std::map<std::string, ManifestPart> parts;
        for (auto& p : head.parts)
            parts.emplace(p.path, std::move(p));
        return parts;
    } catch (const Error&) {
        return std::nullopt;
    }
}

bool ManifestParts::any() const
{
    std::error_code ec;
    return fs::is_directory(m_folder / m_parts, ec);
}

bool ManifestParts::intact(const ManifestPart& part) const
{
    const auto st = m_fs.stat(m_folder / part.path);
    return st && st->size == part.bytes && st->mtime_ns <= m_recorded.mtime_ns;
}

std::vector<ManifestPart> ManifestParts::write(const std::vector<ManifestEntry>& entries, std::size_t mean,
                                               const std::map<std::string, ManifestPart>& before, Durability durability,
                                               std::string& build_id, bool& wrote) const
{
    wrote = false;
    std::vector<ManifestPart> parts;
    std::string text;
    // A part of the last build that held the same entries, all unchanged, keeps its name.
    std::map<std::string_view, const ManifestPart*> by_first;
    for (const auto& [path, p] : before)
        by_first.emplace(p.first, &p);
    const std::string folder = m_parts + "/";
    auto known = [&](std::size_t b, std::size_t e) -> std::optional<std::string> {
        const auto it = by_first.find(entries[b].source);
        if (it == by_first.end())
            return std::nullopt;
        const ManifestPart& p = *it->second;
        if (p.last != entries[e - 1].source || p.sources != e - b || !p.path.starts_with(folder) ||
            !part_file_name(std::string_view(p.path).substr(folder.size())))
            return std::nullopt;
        return p.path.substr(folder.size());
    };
    for (const ManifestCut& cut : cut_manifest(entries, mean, build_id, known)) {
        const ManifestEntry* begin = entries.data() + cut.begin;
        const ManifestEntry* end = entries.data() + cut.end;
        ManifestPart part{m_parts + "/" + cut.file, 0, {}, std::string(begin->source), std::string((end - 1)->source),
                          cut.end - cut.begin};
        if (const auto kept = before.find(part.path); kept != before.end() && intact(kept->second)) {
            part.bytes = kept->second.bytes;
            part.integrity = kept->second.integrity;
        } else {
            render_manifest_part(text, begin, end);
            part.bytes = text.size();
            part.integrity = sri_sha384(as_bytes(text));
            m_fs.write(m_folder / part.path, as_bytes(text), durability);
            wrote = true;
        }
        parts.push_back(std::move(part));
    }
    return parts;
}

void ManifestParts::remove_old(const std::vector<ManifestPart>& parts,
                               const std::map<std::string, ManifestPart>& before,
                               const std::function<bool(std::string_view)>& published) const
{
    const fs::path folder = m_folder / m_parts;
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        return;
    std::set<std::string> named;
    for (const auto& p : parts)
        named.insert(p.path);
    for (const auto& [path, p] : before)
        named.insert(path);
    const fs::path in_out = m_folder.lexically_relative(m_out);
    std::vector<std::string> gone;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const std::string path = m_parts + "/" + name;
        const std::string out_path = (in_out / path).lexically_normal().generic_string();
        if (part_file_name(name) && named.count(path) == 0 && !published(out_path))
            gone.push_back(out_path);
    }
    remove_outputs(m_out, gone);
    fs::remove(folder, ec); // only if empty
}

} // namespace cachet
