#include "pipeline/cache/remote.hpp"

#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <cmath>
#include <cstdlib>

namespace cachet {

struct RemoteCache::Server {
    std::string base;  // what request URLs start with (credentials included)
    std::string shown; // ... as it may be shown
    double weight = 1;
    bool read_only = false;
    bool s3 = false;
    std::unique_ptr<HttpClient> client;
    mutable std::atomic<bool> off{false};        // failed: no more requests this process
    mutable std::atomic<bool> writes_off{false}; // refused a write: no more uploads
};

namespace {

std::string env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string trimmed_slashes(std::string s)
{
    while (!s.empty() && s.back() == '/')
        s.pop_back();
    return s;
}

// Bytes that may not appear in a URL cachet is given: control characters, spaces, quotes.
bool plain_url(const std::string& url)
{
    for (const unsigned char c : url)
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\')
            return false;
    return true;
}

} // namespace

std::string without_credentials(const std::string& url)
{
    const auto scheme = url.find("://");
    if (scheme == std::string::npos)
        return url;
    const auto host = scheme + 3;
    const auto end = url.find('/', host);
    const auto at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < host)
        return url;
    return url.substr(0, host) + url.substr(at + 1);
}

RemoteCache::RemoteCache(const RemoteCacheSettings& settings) : m_read_only(settings.read_only)
{
    if (settings.urls.empty())
        throw Error(ErrorKind::usage, "remote cache: no server named");
    for (const auto& given : settings.urls) {
        auto server = std::make_unique<Server>();
        std::string url = given;
        std::string attributes;
        if (const auto bar = given.find('|'); bar != std::string::npos) {
            url = given.substr(0, bar);
            attributes = given.substr(bar + 1);
        }
        const std::string shown = without_credentials(url);
        if (!plain_url(url))
            throw Error(ErrorKind::usage, "remote cache \"" + printable(shown) +
                                              "\": not a URL (no spaces, quotes or "
                                              "control characters)");
        for (std::size_t at = 0; at < attributes.size();) {
            const auto next = std::min(attributes.find('|', at), attributes.size());
            const std::string attribute = attributes.substr(at, next - at);
            at = next + 1;
            if (attribute == "read-only") {
                server->read_only = true;
            } else if (attribute.starts_with("weight=")) {
                char* end = nullptr;
                const double w = std::strtod(attribute.c_str() + 7, &end);
                if (*end != '\0' || !(w >= 1 && w <= 1000))
                    throw Error(ErrorKind::usage,
                                "remote cache \"" + printable(shown) + "\": weight must be a number from 1 to 1000");
                server->weight = w;
            } else {
                throw Error(ErrorKind::usage, "remote cache \"" + printable(shown) + "\": unknown attribute \"" +
                                                  printable(attribute) + "\" (known: read-only, weight=N)");
            }
        }
        HttpClient::Options options;
        options.connect_timeout_ms = settings.connect_timeout_ms;
        options.timeout_ms = settings.timeout_ms;
        if (url.starts_with("http://") || url.starts_with("https://")) {
            if (url.find('/', url.find("://") + 3) == std::string::npos)
                url += '/';
            server->base = trimmed_slashes(url);
            server->shown = trimmed_slashes(shown);
            options.bearer_token = env("CACHET_REMOTE_CACHE_TOKEN");
        } else if (url.starts_with("s3://")) {
            // S3 itself, path-style: {endpoint}/{bucket}/{prefix}/ac/..., as the AWS CLI is set up.
            const std::string rest = trimmed_slashes(url.substr(5));
            if (rest.empty() || rest.front() == '/')
                throw Error(ErrorKind::usage, "remote cache \"" + printable(shown) + "\": s3:// needs a bucket");
            std::string endpoint = env("AWS_ENDPOINT_URL_S3");
            if (endpoint.empty())
                endpoint = env("AWS_ENDPOINT_URL");
            std::string region = env("AWS_REGION");
            if (region.empty())
                region = env("AWS_DEFAULT_REGION");
            if (region.empty())
                region = "us-east-1";
            if (endpoint.empty())
                endpoint = "https://s3." + region + ".amazonaws.com";
            if (!plain_url(endpoint) || !plain_url(region))
                throw Error(ErrorKind::usage, "AWS_ENDPOINT_URL or AWS_REGION is not a URL or region");
            server->s3 = true;
            server->base = trimmed_slashes(endpoint) + "/" + rest;
            server->shown = "s3://" + rest;
            const std::string key = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
            options.aws_sigv4 = "aws:amz:" + region + ":s3";
            options.aws_user_password = key + ":" + secret;
            if (const std::string token = env("AWS_SESSION_TOKEN"); !token.empty())
                options.headers.push_back("x-amz-security-token: " + token);
            if (key.empty() || secret.empty()) { // a fork's pull request has no secrets: build without
                server->off = true;
                m_problems.push_back(server->shown + ": AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
            }
        } else {
            throw Error(ErrorKind::usage, "remote cache \"" + printable(shown) +
                                              "\": expected http://, https:// (a Bazel HTTP cache) or s3://");
        }
        server->client = std::make_unique<HttpClient>(std::move(options));
        m_scores.emplace_back(server->shown, server->weight);
        m_servers.push_back(std::move(server));
    }
}

RemoteCache::~RemoteCache() = default;

std::size_t rendezvous_pick(const std::vector<std::pair<std::string, double>>& servers, std::string_view key)
{
    std::size_t best = 0;
    double best_score = -1;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const std::string digest = sha256_hex(as_bytes(servers[i].first + "\n" + std::string(key)));
        const std::uint64_t h = std::strtoull(digest.substr(0, 13).c_str(), nullptr, 16); // 52 bits
        const double u = (static_cast<double>(h) + 0.5) / 4503599627370496.0;             // in (0, 1)
        const double score = servers[i].second / -std::log(u);
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    return best;
}

const RemoteCache::Server& RemoteCache::home(Space space, const std::string& name) const
{
    if (m_servers.size() == 1)
        return *m_servers.front();
    return *m_servers[rendezvous_pick(m_scores, (space == Space::ac ? "ac/" : "cas/") + name)];
}

std::string RemoteCache::url_of(const Server& server, Space space, const std::string& name) const
{
    return server.base + (space == Space::ac ? "/ac/" : "/cas/") + name;
}

void RemoteCache::turn_off(const Server& server, bool writes_only, const std::string& why, bool timed_out) const
{
    ++(timed_out ? m_timeouts : m_errors);
    std::atomic<bool>& flag = writes_only ? server.writes_off : server.off;
    if (flag.exchange(true))
        return;
    const std::lock_guard lock(m_problems_mutex);
    m_problems.push_back(
        server.shown + ": " + why +
        (writes_only ? "; no more uploads to it this build" : "; not used for the rest of this build"));
}

void RemoteCache::note_damaged(const std::string& what) const
{
    ++m_damaged;
    const std::lock_guard lock(m_problems_mutex);
    if (m_problems.size() < 20)
        m_problems.push_back(what);
}

namespace {

const char* k_empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string status_problem(const char* method, long status)
{
    return std::string(method) + " answered HTTP " + std::to_string(status);
}

} // namespace

std::optional<Bytes> RemoteCache::answer(const Server& server, HttpClient::Response r) const
{
    using Outcome = HttpClient::Response::Outcome;
    if (r.outcome != Outcome::answered) {
        turn_off(server, false, "GET failed: " + printable(r.problem), r.outcome == Outcome::timed_out);
        return std::nullopt;
    }
    m_bytes_down += r.body.size();
    if (r.status == 200)
        return std::move(r.body);
    if (r.status != 404)
        turn_off(server, false, status_problem("GET", r.status), false);
    return std::nullopt;
}

std::vector<std::string> RemoteCache::get_headers(const Server& server)
{
    if (!server.s3)
        return {};
    return {std::string("x-amz-content-sha256: ") + k_empty_sha256};
}

std::optional<Bytes> RemoteCache::fetch(Space space, const std::string& name, std::uint64_t max_bytes) const
{
    const Server& server = home(space, name);
    if (server.off)
        return std::nullopt;
    return answer(server, server.client->get(url_of(server, space, name), max_bytes, get_headers(server)));
}

std::vector<std::optional<Bytes>>
RemoteCache::fetch_blobs(const std::vector<std::pair<std::string, std::uint64_t>>& blobs) const
{
    std::vector<std::optional<Bytes>> out(blobs.size());
    // One batch per server, each blob from its own.
    std::map<const Server*, std::vector<std::size_t>> by_server;
    for (std::size_t i = 0; i < blobs.size(); ++i)
        by_server[&home(Space::cas, blobs[i].first)].push_back(i);
    for (const auto& [server, indexes] : by_server) {
        if (server->off)
            continue;
        std::vector<HttpClient::Get> gets;
        for (const std::size_t i : indexes)
            gets.push_back({url_of(*server, Space::cas, blobs[i].first), blobs[i].second});
        auto responses = server->client->get_all(gets, get_headers(*server));
        for (std::size_t k = 0; k < indexes.size(); ++k)
            out[indexes[k]] = answer(*server, std::move(responses[k]));
    }
    return out;
}

bool RemoteCache::may_upload(Space space, const std::string& name) const
{
    if (m_read_only)
        return false;
    const Server& server = home(space, name);
    return !server.read_only && !server.off && !server.writes_off;
}

bool RemoteCache::upload(Space space, const std::string& name, ByteView data) const
{
    if (!may_upload(space, name))
        return false;
    const Server& server = home(space, name);
    std::vector<std::string> headers;
    if (server.s3)
        headers.push_back("x-amz-content-sha256: " + sha256_hex(data));
    const HttpClient::Response r = server.client->put(url_of(server, space, name), data, headers);
    using Outcome = HttpClient::Response::Outcome;
    if (r.outcome != Outcome::answered) {
        turn_off(server, false, "PUT failed: " + printable(r.problem), r.outcome == Outcome::timed_out);
        return false;
    }
    if (r.status >= 200 && r.status < 300) {
        ++m_uploads;
        m_bytes_up += data.size();
        return true;
    }
    // A 4xx says this client may not write (read-only, too big, forbidden): reads go on.
    turn_off(server, r.status >= 400 && r.status < 500, status_problem("PUT", r.status), false);
    return false;
}

RemoteStats RemoteCache::stats() const
{
    RemoteStats s;
    s.hits = m_hits;
    s.misses = m_misses;
    s.damaged = m_damaged;
    s.errors = m_errors;
    s.timeouts = m_timeouts;
    s.uploads = m_uploads;
    s.bytes_up = m_bytes_up;
    s.bytes_down = m_bytes_down;
    const std::lock_guard lock(m_problems_mutex);
    s.problems = m_problems;
    return s;
}

std::string RemoteCache::describe() const
{
    std::string out;
    for (const auto& s : m_servers)
        out += (out.empty() ? "" : ", ") + s->shown;
    return out;
}

} // namespace cachet
