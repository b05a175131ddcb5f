#include "pipeline/build/asset_builder.hpp"

#include "pipeline/build/scheduler.hpp"

#include <algorithm>
#include <utility>

// Whether the outputs of the last build's entries are in OUT as that build wrote them: the
// look at OUT every build without a watch's memory makes (one stat per output file).
namespace cachet {

namespace {

// Whether every output of previous is as that build wrote it, by stat_of(path in OUT).
template <typename StatOf>
bool outputs_as_written(const IndexEntry& previous, StatOf&& stat_of)
{
    try {
        return each_output(previous.outputs,
                           [&](std::string_view path, const FileStat& stat) { return stat_of(path) == stat; });
    } catch (const std::runtime_error&) {
        return false; // (never: they passed the index's checksum)
    }
}

// The folders of OUT, one open at a time: a stat of a name in it walks one path component, not
// all of them. (Sources sorted by path mostly write into the folder their neighbour did.)
class FolderCursor {
public:
    explicit FolderCursor(std::filesystem::path out) : m_out(std::move(out)) {}

    std::optional<FileStat> stat(const FileSystem& fs, std::string_view path)
    {
        const auto slash = path.rfind('/');
        const std::string_view folder =
            slash == std::string::npos ? std::string_view() : std::string_view(path).substr(0, slash);
        if (!m_open || folder != m_folder) {
            m_folder = folder;
            m_open.emplace(m_folder.empty() ? m_out : m_out / m_folder); // not there: every stat fails
        }
        m_name.assign(path.substr(slash == std::string::npos ? 0 : slash + 1)); // (NUL-terminated)
        return fs.stat_in(*m_open, m_name.c_str());
    }

private:
    std::filesystem::path m_out;
    std::string m_folder;
    std::string m_name;
    std::optional<OpenFolder> m_open;
};

} // namespace

bool outputs_in_place(const IndexEntry& previous, const FileSystem& fs, const OpenFolder& out)
{
    std::string name;
    return outputs_as_written(previous, [&](std::string_view path) {
        name.assign(path);
        return fs.stat_in(out, name.c_str());
    });
}

void check_outputs(BuildIndex& index, const FileSystem& fs, const std::filesystem::path& out, unsigned jobs,
                   bool journaled_only)
{
    std::vector<IndexEntry*> entries; // (mtime 0: never reused by its stat)
    if (journaled_only) {             // (a few: a journal holds up to an eighth of the sources)
        for (const auto& path : index.journaled)
            if (const auto it = index.assets.find(path); it != index.assets.end() && it->second.source.mtime_ns != 0)
                if (std::exchange(it->second.in_place, 0) < 0) // (once, if journaled twice)
                    entries.push_back(&it->second);
    } else {
        for (auto& [path, e] : index.assets)
            if (e.source.mtime_ns != 0)
                entries.push_back(&e);
    }
    const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(jobs, entries.size()));
    parallel_for(static_cast<unsigned>(parts), parts, [&](std::size_t part) {
        FolderCursor folders(out);
        for (std::size_t i = entries.size() * part / parts; i < entries.size() * (part + 1) / parts; ++i)
            entries[i]->in_place =
                outputs_as_written(*entries[i], [&](std::string_view path) { return folders.stat(fs, path); }) ? 1 : 0;
    });
}

void check_outputs(std::map<std::string, IndexEntry>& entries, const FileSystem& fs, const std::filesystem::path& out)
{
    FolderCursor folders(out);
    for (auto& [path, e] : entries)
        if (e.source.mtime_ns != 0)
            e.in_place = outputs_as_written(e, [&](std::string_view p) { return folders.stat(fs, p); }) ? 1 : 0;
}

} // namespace cachet
