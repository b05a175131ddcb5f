#include "pipeline/cache/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace cachet {

struct HttpClient::Pool {
    std::mutex mutex;
    std::vector<CURL*> idle;

    CURL* take()
    {
        {
            const std::lock_guard lock(mutex);
            if (!idle.empty()) {
                CURL* h = idle.back();
                idle.pop_back();
                curl_easy_reset(h); // keeps its live connections
                return h;
            }
        }
        return curl_easy_init();
    }
    void give_back(CURL* h)
    {
        const std::lock_guard lock(mutex);
        idle.push_back(h);
    }
    // Multi handles keep the connections of the transfers run through them, for the next ones.
    std::vector<CURLM*> idle_multi;
    CURLM* take_multi()
    {
        {
            const std::lock_guard lock(mutex);
            if (!idle_multi.empty()) {
                CURLM* m = idle_multi.back();
                idle_multi.pop_back();
                return m;
            }
        }
        CURLM* m = curl_multi_init();
        if (m)
            curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
        return m;
    }
    void give_back_multi(CURLM* m)
    {
        const std::lock_guard lock(mutex);
        idle_multi.push_back(m);
    }
    ~Pool()
    {
        for (CURLM* m : idle_multi)
            curl_multi_cleanup(m);
        for (CURL* h : idle)
            curl_easy_cleanup(h);
    }
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
};

namespace {

struct Sink {
    Bytes* body;
    std::uint64_t max_bytes;
    bool too_big = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user)
{
    auto* sink = static_cast<Sink*>(user);
    const std::size_t n = size * count;
    if (sink->body->size() + n > sink->max_bytes) {
        sink->too_big = true;
        return 0; // libcurl stops the transfer (CURLE_WRITE_ERROR)
    }
    sink->body->insert(sink->body->end(), reinterpret_cast<std::uint8_t*>(data),
                       reinterpret_cast<std::uint8_t*>(data) + n);
    return n;
}

// libcurl's global state, set up once (curl_global_init is not thread-safe).
void init_curl()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Headers {
    curl_slist* list = nullptr;
    void add(const std::string& h) { list = curl_slist_append(list, h.c_str()); }
    ~Headers() { curl_slist_free_all(list); }
    Headers() = default;
    Headers(const Headers&) = delete;
    Headers& operator=(const Headers&) = delete;
};

} // namespace

HttpClient::HttpClient(Options options) : m_options(std::move(options)), m_pool(std::make_unique<Pool>())
{
    init_curl();
}

HttpClient::~HttpClient() = default;

void HttpClient::setup(void* handle, const std::string& url) const
{
    CURL* h = static_cast<CURL*>(handle);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); // threads
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.timeout_ms));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cachet");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    if (!m_options.aws_sigv4.empty()) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, m_options.aws_sigv4.c_str());
        curl_easy_setopt(h, CURLOPT_USERPWD, m_options.aws_user_password.c_str());
    }
}

namespace {

HttpClient::Response finish(CURL* h, CURLcode code, const char* error, bool too_big, HttpClient::Response r)
{
    if (code == CURLE_OK) {
        r.outcome = HttpClient::Response::Outcome::answered;
        r.problem.clear();
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }
    r.body.clear();
    r.too_big = too_big;
    r.outcome = code == CURLE_OPERATION_TIMEDOUT ? HttpClient::Response::Outcome::timed_out
                                                 : HttpClient::Response::Outcome::failed;
    r.problem = too_big ? "the answer is longer than expected" : *error ? error : curl_easy_strerror(code);
    return r;
}

} // namespace

HttpClient::Response HttpClient::get(const std::string& url, std::uint64_t max_bytes,
                                     const std::vector<std::string>& extra) const
{
    return std::move(get_all({Get{url, max_bytes}}, extra).front());
}

std::vector<HttpClient::Response> HttpClient::get_all(const std::vector<Get>& gets,
                                                      const std::vector<std::string>& extra) const
{
    std::vector<Response> out(gets.size());
    struct Transfer {
        CURL* handle = nullptr;
        Sink sink{nullptr, 0};
        char error[CURL_ERROR_SIZE] = {};
    };
    std::vector<Transfer> transfers(gets.size());
    Headers headers;
    if (!m_options.bearer_token.empty())
        headers.add("Authorization: Bearer " + m_options.bearer_token);
    for (const auto& h : m_options.headers)
        headers.add(h);
    for (const auto& h : extra)
        headers.add(h);
    CURLM* multi = m_pool->take_multi();
    for (std::size_t i = 0; i < gets.size(); ++i) {
        Transfer& t = transfers[i];
        t.handle = m_pool->take();
        if (!t.handle || !multi) {
            out[i].problem = "cannot start a transfer";
            continue;
        }
        out[i].problem = "the transfer did not finish";
        t.sink = Sink{&out[i].body, gets[i].max_bytes};
        setup(t.handle, gets[i].url);
        curl_easy_setopt(t.handle, CURLOPT_ERRORBUFFER, t.error);
        curl_easy_setopt(t.handle, CURLOPT_WRITEDATA, &t.sink);
        curl_easy_setopt(t.handle, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(t.handle, CURLOPT_HTTPHEADER, headers.list);
        curl_easy_setopt(t.handle, CURLOPT_PRIVATE, reinterpret_cast<char*>(i));
        curl_multi_add_handle(multi, t.handle);
    }
    int running = 1;
    while (multi && running > 0) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running > 0 && curl_multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK)
            break;
    }
    int left = 0;
    while (CURLMsg* message = multi ? curl_multi_info_read(multi, &left) : nullptr) {
        if (message->msg != CURLMSG_DONE)
            continue;
        char* index = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &index);
        const auto i = reinterpret_cast<std::size_t>(index);
        out[i] = finish(message->easy_handle, message->data.result, transfers[i].error, transfers[i].sink.too_big,
                        std::move(out[i]));
    }
    for (Transfer& t : transfers)
        if (t.handle) {
            if (multi)
                curl_multi_remove_handle(multi, t.handle);
            m_pool->give_back(t.handle);
        }
    if (multi)
        m_pool->give_back_multi(multi);
    return out;
}

HttpClient::Response HttpClient::put(const std::string& url, ByteView body, const std::vector<std::string>& extra) const
{
    CURL* h = m_pool->take();
    if (!h)
        return Response{Response::Outcome::failed, 0, {}, "cannot start a transfer", false};
    Response r;
    Sink sink{&r.body, 1 << 16}; // an answer to a PUT is short
    char error[CURL_ERROR_SIZE] = {};
    setup(h, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    // The body from memory, as a POST's would be (so that a SigV4 signature covers it), sent
    // with the PUT method; libcurl sets Content-Length.
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.empty() ? "" : reinterpret_cast<const char*>(body.data()));
    Headers headers;
    headers.add("Content-Type: application/octet-stream");
    headers.add("Expect:");
    if (!m_options.bearer_token.empty())
        headers.add("Authorization: Bearer " + m_options.bearer_token);
    for (const auto& h2 : m_options.headers)
        headers.add(h2);
    for (const auto& h2 : extra)
        headers.add(h2);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
    const CURLcode code = curl_easy_perform(h);
    r = finish(h, code, error, false, std::move(r));
    m_pool->give_back(h);
    return r;
}

} // namespace cachet
