#pragma once
#include "pipeline/model/bytes.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachet {

// A few HTTP requests over libcurl, from any thread (each takes a handle from a pool, so
// connections are reused). The remote cache's only way out; nothing else in cachet talks to
// the network.
class HttpClient {
public:
    struct Options {
        std::int64_t connect_timeout_ms = 100;
        std::int64_t timeout_ms = 10000;
        std::string bearer_token;      // "Authorization: Bearer ..." when not empty
        std::string aws_sigv4;         // CURLOPT_AWS_SIGV4 ("aws:amz:REGION:s3") when not empty
        std::string aws_user_password; // "KEY:SECRET", for aws_sigv4
        std::vector<std::string> headers;
    };

    struct Response {
        enum class Outcome { answered, timed_out, failed };
        Outcome outcome = Outcome::failed;
        long status = 0;      // when answered
        Bytes body;           // when answered
        std::string problem;  // when not: libcurl's words (never the URL's credentials)
        bool too_big = false; // the body was longer than allowed (outcome failed)
    };

    explicit HttpClient(Options options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // GET url; a body longer than max_bytes is refused (outcome failed, too_big).
    Response get(const std::string& url, std::uint64_t max_bytes, const std::vector<std::string>& headers = {}) const;
    struct Get {
        std::string url;
        std::uint64_t max_bytes = 0;
    };
    // Several GETs at once (at most 8 connections to a host), each answered as get() would be;
    // for the blobs of one job, which a far server would otherwise answer one round trip each.
    std::vector<Response> get_all(const std::vector<Get>& gets, const std::vector<std::string>& headers = {}) const;
    // PUT url with body (Content-Length set, no Expect: 100-continue); extra headers added.
    Response put(const std::string& url, ByteView body, const std::vector<std::string>& headers = {}) const;

private:
    struct Pool;
    void setup(void* handle, const std::string& url) const; // the options every request has

    Options m_options;
    std::unique_ptr<Pool> m_pool;
};

} // namespace cachet
