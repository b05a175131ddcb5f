#pragma once
#include "pipeline/model/bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace cachet {

// One place cache entries and output blobs are kept, behind a few calls: the local folder
// today (LocalStorage); a remote cache is another backend. A backend stores and returns bytes
// and checks nothing: Cache, the facade, verifies what it reads (an entry's key, a blob's
// digest) and decides what a damaged or missing item means.
class StorageBackend {
public:
    // The two key spaces: entries by cache key, blobs by the SHA-256 (hex) of their bytes.
    enum class Space { entries, blobs };

    virtual ~StorageBackend() = default;

    // The bytes stored under key, or nullopt if there are none (or they cannot be read).
    virtual std::optional<Bytes> get(Space space, const std::string& key) const = 0;
    // Stores data under key, atomically: readers see all of it or nothing. Throws Error(io).
    virtual void put(Space space, const std::string& key, ByteView data) const = 0;
    // Removes what is stored under key, if anything; never throws.
    virtual void remove(Space space, const std::string& key) const = 0;
    // Whether key holds bytes of that size (a blob named by its digest need not be written again).
    virtual bool holds(Space space, const std::string& key, std::uint64_t size) const = 0;
    // Notes that key was just used (the local cache's gc drops the least recently used first).
    virtual void touch(Space space, const std::string& key) const = 0;
    // Where key is kept, for messages ("cache entry <where> is damaged").
    virtual std::string where(Space space, const std::string& key) const = 0;
};

} // namespace cachet
