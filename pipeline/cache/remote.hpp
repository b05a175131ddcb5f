#pragma once
#include "pipeline/cache/http_client.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/model/bytes.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet {

// What the remote cache did in one build (--json, cachet cache stats).
struct RemoteStats {
    std::uint64_t hits = 0;     // jobs whose result and every blob came from a server, verified
    std::uint64_t misses = 0;   // jobs a server did not have whole
    std::uint64_t damaged = 0;  // of those misses, results or blobs that were there but wrong
    std::uint64_t errors = 0;   // requests that failed (refused, an error status, garbage)
    std::uint64_t timeouts = 0; // requests that timed out
    std::uint64_t uploads = 0;  // objects stored
    std::uint64_t bytes_up = 0;
    std::uint64_t bytes_down = 0;
    std::vector<std::string> problems; // what turned each server off, or its writes (no credentials)
};

// The servers of a shared cache on the Bazel HTTP cache protocol: GET and PUT of
// {base}/ac/{key} (job results) and {base}/cas/{sha256} (blobs), or the same keys in an S3
// bucket. Each key lives on one server, chosen by weighted rendezvous hashing, so adding a
// server moves few keys. Failures never fail a build: the first error or timeout of a server
// turns it off for the rest of the process (its keys are then misses), a 4xx answer to a PUT
// turns off its writes. Credentials (user:password in a URL, the bearer token of
// $CACHET_REMOTE_CACHE_TOKEN, the AWS keys) are sent, never shown. Thread-safe.
class RemoteCache {
public:
    enum class Space { ac, cas };

    // Throws Error(usage) naming a URL that is not http(s):// or s3://, or a bad attribute.
    explicit RemoteCache(const RemoteCacheSettings& settings);
    ~RemoteCache();
    RemoteCache(const RemoteCache&) = delete;
    RemoteCache& operator=(const RemoteCache&) = delete;

    // The bytes under name, or nullopt: not there (404), or the server is off or failed now.
    // A body longer than max_bytes counts as an error.
    std::optional<Bytes> fetch(Space space, const std::string& name, std::uint64_t max_bytes) const;
    // fetch() of several blobs at once: for each (sha256, size), its bytes or nullopt.
    std::vector<std::optional<Bytes>>
    fetch_blobs(const std::vector<std::pair<std::string, std::uint64_t>>& blobs) const;
    // Stores data under name; whether the server took it.
    bool upload(Space space, const std::string& name, ByteView data) const;
    // Whether an upload under name may be tried (read-only, or its server's writes are off).
    bool may_upload(Space space, const std::string& name) const;

    void note_hit() const { ++m_hits; }
    void note_miss() const { ++m_misses; }
    // A result or blob that was there but wrong (what names it, for the problems list).
    void note_damaged(const std::string& what) const;

    RemoteStats stats() const;
    // The servers, as shown (no credentials): "http://cache:8080/cachet, s3://bucket/prefix".
    std::string describe() const;

private:
    struct Server;
    const Server& home(Space space, const std::string& name) const;
    std::string url_of(const Server& server, Space space, const std::string& name) const;
    void turn_off(const Server& server, bool writes_only, const std::string& why, bool timed_out) const;
    static std::vector<std::string> get_headers(const Server& server); // an S3 GET's payload digest
    // What a GET's response means: the body, or nullopt (a miss, or the server turned off).
    std::optional<Bytes> answer(const Server& server, HttpClient::Response r) const;

    std::vector<std::unique_ptr<Server>> m_servers;
    std::vector<std::pair<std::string, double>> m_scores; // each server's (shown URL, weight)
    bool m_read_only = false;
    mutable std::atomic<std::uint64_t> m_hits{0}, m_misses{0}, m_damaged{0}, m_errors{0}, m_timeouts{0}, m_uploads{0},
        m_bytes_up{0}, m_bytes_down{0};
    mutable std::mutex m_problems_mutex;
    mutable std::vector<std::string> m_problems;
};

// The URL as it may be shown: without user:password@.
std::string without_credentials(const std::string& url);

// Weighted rendezvous hashing: which of servers ((name, weight) each) keeps key. Every server
// scores the key, the highest wins; a server added takes only the keys it now scores highest
// on, each server's share is its weight's.
std::size_t rendezvous_pick(const std::vector<std::pair<std::string, double>>& servers, std::string_view key);

} // namespace cachet
