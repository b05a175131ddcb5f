#pragma once
#include "pipeline/fs/file_system.hpp"
#include "pipeline/publish/manifest.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// A manifest in parts in OUT, as a build brings it up to date: the top at `manifest`, its
// parts in manifest_parts_folder() beside it. `recorded` is the stat of the top that the last
// build recorded in its index (mtime 0: none), so that what it names is trusted as OUT's
// outputs are, by their stat.
class ManifestParts {
public:
    ManifestParts(const FileSystem& fs, std::filesystem::path out, const std::filesystem::path& manifest,
                  FileStat recorded);

    // The parts the last build's top names, by path, if that top is still as it was recorded
    // and is in parts; nullopt otherwise.
    std::optional<std::map<std::string, ManifestPart>> trusted() const;

    // The parts the top in OUT names now, trusted or not (empty if it is not a top).
    std::map<std::string, ManifestPart> listed() const;

    // Whether the parts' folder is there (a manifest in parts now, or until lately).
    bool any() const;

    // A part the trusted top names is still as the last build wrote it: its size, and not
    // written since that top was.
    bool intact(const ManifestPart& part) const;

    // This build's parts of about `mean` sources (entries sorted by source): those `before`
    // names that are intact are kept, the others written (durability: before the top names
    // them). Returns them; build_id gets the build id of entries, wrote whether any part was
    // written.
    std::vector<ManifestPart> write(const std::vector<ManifestEntry>& entries, std::size_t mean,
                                    const std::map<std::string, ManifestPart>& before, Durability durability,
                                    std::string& build_id, bool& wrote) const;

    // Once the top is published: the part files named by neither it (parts) nor the top it
    // replaced (before; it may still be being read) go, unless published (a path in OUT) says
    // a source's output is there; then the folder, if empty.
    void remove_old(const std::vector<ManifestPart>& parts, const std::map<std::string, ManifestPart>& before,
                    const std::function<bool(std::string_view)>& published) const;

private:
    // The parts of the top at m_manifest, if it is one (small, beginning with its build id).
    std::optional<std::map<std::string, ManifestPart>> parts_of_top() const;

    const FileSystem& m_fs;
    std::filesystem::path m_out;
    std::filesystem::path m_manifest;
    std::filesystem::path m_folder; // the manifest's folder
    std::string m_parts;            // the parts' folder, relative to it
    FileStat m_recorded;
};

} // namespace cachet
