#include "pipeline/cache/http_client.hpp"

#include <curl/curl.h>
#include <dlfcn.h>

#include <mutex>

namespace cachet {
namespace {

// libcurl, loaded the first time a client is made rather than linked: it and the ~25 libraries
// it needs (TLS, Kerberos, LDAP, SSH...) cost every cachet process about 8 ms of dynamic linking
// at start, and only a build with a remote cache talks HTTP.
struct Curl {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_reset) easy_reset = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    decltype(&curl_multi_init) multi_init = nullptr;
    decltype(&curl_multi_setopt) multi_setopt = nullptr;
    decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&curl_multi_perform) multi_perform = nullptr;
    decltype(&curl_multi_poll) multi_poll = nullptr;
    decltype(&curl_multi_info_read) multi_info_read = nullptr;
    decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&curl_slist_append) slist_append = nullptr;
    decltype(&curl_slist_free_all) slist_free_all = nullptr;
    std::string problem; // why it could not be loaded (then the functions are null)
};

template <typename F>
bool bind(void* library, F& function, const char* name)
{
    function = reinterpret_cast<F>(dlsym(library, name));
    return function != nullptr;
}

Curl load_curl()
{
    Curl c;
    void* library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char* why = dlerror();
        c.problem = "libcurl cannot be loaded (" + std::string(why ? why : "libcurl.so.4") +
                    "): install libcurl4 for the remote cache";
        return c;
    }
    const bool complete =
        bind(library, c.global_init, "curl_global_init") && bind(library, c.easy_init, "curl_easy_init") &&
        bind(library, c.easy_reset, "curl_easy_reset") && bind(library, c.easy_cleanup, "curl_easy_cleanup") &&
        bind(library, c.easy_setopt, "curl_easy_setopt") && bind(library, c.easy_getinfo, "curl_easy_getinfo") &&
        bind(library, c.easy_perform, "curl_easy_perform") && bind(library, c.easy_strerror, "curl_easy_strerror") &&
        bind(library, c.multi_init, "curl_multi_init") && bind(library, c.multi_setopt, "curl_multi_setopt") &&
        bind(library, c.multi_add_handle, "curl_multi_add_handle") &&
        bind(library, c.multi_remove_handle, "curl_multi_remove_handle") &&
        bind(library, c.multi_perform, "curl_multi_perform") && bind(library, c.multi_poll, "curl_multi_poll") &&
        bind(library, c.multi_info_read, "curl_multi_info_read") &&
        bind(library, c.multi_cleanup, "curl_multi_cleanup") && bind(library, c.slist_append, "curl_slist_append") &&
        bind(library, c.slist_free_all, "curl_slist_free_all");
    if (!complete) {
        c = Curl{};
        c.problem = "the libcurl.so.4 loaded is older than cachet needs (it lacks functions of 7.66)";
        return c;
    }
    c.global_init(CURL_GLOBAL_DEFAULT);
    return c;
}

// Loaded and set up once (curl_global_init is not thread-safe); never unloaded.
const Curl& curl()
{
    static const Curl loaded = load_curl();
    return loaded;
}

} // namespace

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
                curl().easy_reset(h); // keeps its live connections
                return h;
            }
        }
        return curl().easy_init ? curl().easy_init() : nullptr;
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
        CURLM* m = curl().multi_init ? curl().multi_init() : nullptr;
        if (m)
            curl().multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
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
            curl().multi_cleanup(m);
        for (CURL* h : idle)
            curl().easy_cleanup(h);
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

// Why a transfer could not start.
std::string no_transfer()
{
    return curl().problem.empty() ? "cannot start a transfer" : curl().problem;
}

struct Headers {
    curl_slist* list = nullptr;
    void add(const std::string& h)
    {
        if (curl().slist_append)
            list = curl().slist_append(list, h.c_str());
    }
    ~Headers()
    {
        if (list)
            curl().slist_free_all(list);
    }
    Headers() = default;
    Headers(const Headers&) = delete;
    Headers& operator=(const Headers&) = delete;
};

} // namespace

// libcurl is loaded by the first transfer, not here: a build whose every source is found in the
// local cache (a no-op) never asks the server, and loading libcurl and its 26 libraries would
// be its only cost of the remote cache (about 5 ms).
HttpClient::HttpClient(Options options) : m_options(std::move(options)), m_pool(std::make_unique<Pool>()) {}

HttpClient::~HttpClient() = default;

void HttpClient::setup(void* handle, const std::string& url) const
{
    CURL* h = static_cast<CURL*>(handle);
    curl().easy_setopt(h, CURLOPT_URL, url.c_str());
    curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L); // threads
    curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout_ms));
    curl().easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.timeout_ms));
    curl().easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl().easy_setopt(h, CURLOPT_USERAGENT, "cachet");
    curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    if (!m_options.aws_sigv4.empty()) {
        curl().easy_setopt(h, CURLOPT_AWS_SIGV4, m_options.aws_sigv4.c_str());
        curl().easy_setopt(h, CURLOPT_USERPWD, m_options.aws_user_password.c_str());
    }
}

namespace {

HttpClient::Response finish(CURL* h, CURLcode code, const char* error, bool too_big, HttpClient::Response r)
{
    if (code == CURLE_OK) {
        r.outcome = HttpClient::Response::Outcome::answered;
        r.problem.clear();
        curl().easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }
    r.body.clear();
    r.too_big = too_big;
    r.outcome = code == CURLE_OPERATION_TIMEDOUT ? HttpClient::Response::Outcome::timed_out
                                                 : HttpClient::Response::Outcome::failed;
    r.problem = too_big ? "the answer is longer than expected" : *error ? error : curl().easy_strerror(code);
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
            out[i].problem = no_transfer();
            continue;
        }
        out[i].problem = "the transfer did not finish";
        t.sink = Sink{&out[i].body, gets[i].max_bytes};
        setup(t.handle, gets[i].url);
        curl().easy_setopt(t.handle, CURLOPT_ERRORBUFFER, t.error);
        curl().easy_setopt(t.handle, CURLOPT_WRITEDATA, &t.sink);
        curl().easy_setopt(t.handle, CURLOPT_HTTPGET, 1L);
        curl().easy_setopt(t.handle, CURLOPT_HTTPHEADER, headers.list);
        curl().easy_setopt(t.handle, CURLOPT_PRIVATE, reinterpret_cast<char*>(i));
        curl().multi_add_handle(multi, t.handle);
    }
    int running = 1;
    while (multi && running > 0) {
        if (curl().multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running > 0 && curl().multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK)
            break;
    }
    int left = 0;
    while (CURLMsg* message = multi ? curl().multi_info_read(multi, &left) : nullptr) {
        if (message->msg != CURLMSG_DONE)
            continue;
        char* index = nullptr;
        curl().easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &index);
        const auto i = reinterpret_cast<std::size_t>(index);
        out[i] = finish(message->easy_handle, message->data.result, transfers[i].error, transfers[i].sink.too_big,
                        std::move(out[i]));
    }
    for (Transfer& t : transfers)
        if (t.handle) {
            if (multi)
                curl().multi_remove_handle(multi, t.handle);
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
        return Response{Response::Outcome::failed, 0, {}, no_transfer(), false};
    Response r;
    Sink sink{&r.body, 1 << 16}; // an answer to a PUT is short
    char error[CURL_ERROR_SIZE] = {};
    setup(h, url);
    curl().easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl().easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    // The body from memory, as a POST's would be (so that a SigV4 signature covers it), sent
    // with the PUT method; libcurl sets Content-Length.
    curl().easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl().easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl().easy_setopt(h, CURLOPT_POSTFIELDS, body.empty() ? "" : reinterpret_cast<const char*>(body.data()));
    Headers headers;
    headers.add("Content-Type: application/octet-stream");
    headers.add("Expect:");
    if (!m_options.bearer_token.empty())
        headers.add("Authorization: Bearer " + m_options.bearer_token);
    for (const auto& h2 : m_options.headers)
        headers.add(h2);
    for (const auto& h2 : extra)
        headers.add(h2);
    curl().easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
    const CURLcode code = curl().easy_perform(h);
    r = finish(h, code, error, false, std::move(r));
    m_pool->give_back(h);
    return r;
}

} // namespace cachet
