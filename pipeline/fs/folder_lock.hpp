#pragma once
#include <filesystem>

namespace cachet {

// The exclusive lock of the builds into one folder: a file in it (OUT/.cachet-tmp-build),
// held with flock(2) while a build runs and deleted when the build ends. It lives in OUT, not
// in the cache, so that builds without a cache, or with a cache that cannot be written, are
// kept apart too. A file found there but not locked was left by a build that was killed.
class FolderLock {
public:
    // Takes the lock at file. Throws Error(usage) naming folder if another process holds it,
    // Error(io) if it cannot be created.
    FolderLock(const std::filesystem::path& file, const std::filesystem::path& folder);
    // Deletes the file, then lets go.
    ~FolderLock();
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;

    // Whether the file was already there: a build stopped before it could delete it.
    bool left_by_a_stopped_build() const { return m_stale; }

private:
    std::filesystem::path m_file;
    int m_fd = -1;
    bool m_stale = false;
};

// The lock file of the builds into out (and of `cachet clean`).
std::filesystem::path build_lock_path(const std::filesystem::path& out);

} // namespace cachet
