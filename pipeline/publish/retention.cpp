#include "pipeline/publish/retention.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/fs/folder_lock.hpp"
#include "pipeline/fs/inside.hpp"
#include "pipeline/fs/rename_journal.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace cachet {

namespace fs = std::filesystem;

bool is_safe_relative(const std::string& p)
{
    const fs::path path(p);
    return !p.empty() && path.is_relative() &&
           std::none_of(path.begin(), path.end(), [](const fs::path& part) { return part == ".." || part == "."; });
}

Retention retain(const fs::path& out, const std::vector<Generation>& candidates,
                 const std::function<bool(std::string_view)>& named, int keep, std::chrono::seconds age)
{
    Retention r;
    const auto now = fs::file_time_type::clock::now();
    std::set<std::string_view> seen;
    for (std::size_t g = 0; g < candidates.size(); ++g) {
        Generation kept{candidates[g].build_id, {}};
        for (const auto& p : candidates[g].outputs) {
            if (named(p) || !is_safe_relative(p) || !seen.insert(p).second)
                continue;
            std::error_code ec;
            const auto written_at = fs::last_write_time(out / p, ec);
            if (ec) // gone already (cachet clean, a person)
                continue;
            if (static_cast<int>(g) < keep || now - written_at < age)
                kept.outputs.push_back(p);
            else
                r.expired.push_back(p);
        }
        if (!kept.outputs.empty())
            r.kept.push_back(std::move(kept));
    }
    return r;
}

std::uint64_t remove_outputs(const fs::path& out, const std::vector<std::string>& paths)
{
    std::uint64_t removed = 0;
    std::set<fs::path> folders;
    for (const auto& path : paths) {
        if (!is_safe_relative(path))
            continue;
        if (remove_inside(out, path)) // never through a link to a folder inside OUT
            ++removed;
        for (fs::path parent = fs::path(path).parent_path(); !parent.empty(); parent = parent.parent_path())
            folders.insert(parent);
    }
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) // deepest first
        remove_empty_folder_inside(out, it->generic_string());
    return removed;
}

CleanResult clean_output(const fs::path& out, const std::string& manifest_name, int keep, std::chrono::seconds age)
{
    const fs::path manifest = out / manifest_name;
    std::error_code ec;
    if (!fs::is_directory(out, ec))
        read_manifest(manifest); // no OUT: the error names the manifest it cannot read
    // Not while a build runs; and what a build stopped while publishing left is finished first.
    const FolderLock lock(build_lock_path(out), out);
    RenameJournal::finish(out);
    ManifestHead head;
    const auto records = read_manifest(manifest, &head);
    std::unordered_set<std::string> names{manifest_name};
    for (const auto& r : records)
        for (auto& p : output_paths(r))
            names.insert(std::move(p));
    Retention retention = retain(
        out, head.generations, [&](std::string_view p) { return names.count(std::string(p)) > 0; }, keep, age);
    CleanResult result;
    result.generations = retention.kept.size();
    if (retention.kept == head.generations)
        return result; // nothing expired and nothing vanished: the manifest stays as it is
    Preset preset;
    preset.name = head.preset;
    // A manifest in parts keeps its parts (they hold the records); only its top names fewer builds.
    write_file_atomic(manifest, as_bytes(head.parts.empty()
                                             ? render_manifest(records, preset, retention.kept)
                                             : render_manifest_top(head.parts, head.build_id, preset, retention.kept)));
    result.removed = remove_outputs(out, retention.expired);
    return result;
}

} // namespace cachet
