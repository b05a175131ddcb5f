#pragma once
#include "pipeline/cache/storage.hpp"

#include <filesystem>

namespace cachet {

// The cache's entries and blobs as files in a local folder (root: the cache's v<format>
// folder): entries/ab/<key>.json and blobs/ab/<sha256>, each written atomically, so several
// cachet processes may share the folder.
class LocalStorage : public StorageBackend {
public:
    explicit LocalStorage(std::filesystem::path root) : m_root(std::move(root)) {}

    std::optional<Bytes> get(Space space, const std::string& key) const override;
    void put(Space space, const std::string& key, ByteView data) const override;
    void remove(Space space, const std::string& key) const override;
    bool holds(Space space, const std::string& key, std::uint64_t size) const override;
    void touch(Space space, const std::string& key) const override;
    std::string where(Space space, const std::string& key) const override { return path_of(space, key).string(); }

private:
    std::filesystem::path path_of(Space space, const std::string& key) const;

    std::filesystem::path m_root;
};

} // namespace cachet
