#include "pipeline/cache/index_entry.hpp"

#include "pipeline/cache/binary.hpp"
#include "pipeline/cache/record_codec.hpp"
#include "pipeline/model/error.hpp"

namespace cachet {

namespace {

std::atomic<std::uint64_t> g_decoded{0};

} // namespace

LazyCacheEntry::LazyCacheEntry(const LazyCacheEntry& other)
{
    copy_from(other);
}

LazyCacheEntry::LazyCacheEntry(LazyCacheEntry&& other) noexcept
    : m_path(other.m_path), m_bytes(other.m_bytes), m_state(other.m_state.load(std::memory_order_acquire)),
      m_broken(other.m_broken), m_entry(std::move(other.m_entry))
{
    other.m_bytes = {};
    other.m_state.store(k_decoded, std::memory_order_release);
}

LazyCacheEntry& LazyCacheEntry::operator=(const LazyCacheEntry& other)
{
    if (this != &other)
        copy_from(other);
    return *this;
}

LazyCacheEntry& LazyCacheEntry::operator=(LazyCacheEntry&& other) noexcept
{
    if (this != &other) {
        m_path = other.m_path;
        m_bytes = other.m_bytes;
        m_state.store(other.m_state.load(std::memory_order_acquire), std::memory_order_release);
        m_broken = other.m_broken;
        m_entry = std::move(other.m_entry);
        other.m_bytes = {};
        other.m_state.store(k_decoded, std::memory_order_release);
    }
    return *this;
}

void LazyCacheEntry::copy_from(const LazyCacheEntry& other)
{
    // (Copied as it is: encoded, or decoded in full; never while another thread decodes it.)
    const std::uint8_t state = other.m_state.load(std::memory_order_acquire);
    m_path = other.m_path;
    m_bytes = other.m_bytes;
    m_broken = other.m_broken;
    m_entry = state == k_encoded || !other.m_entry ? nullptr : std::make_unique<CacheEntry>(*other.m_entry);
    m_state.store(state == k_encoded ? k_encoded : k_decoded, std::memory_order_release);
}

void LazyCacheEntry::encoded(std::string_view path, ByteView bytes)
{
    m_path = path;
    m_bytes = bytes;
    m_broken = false;
    m_entry.reset();
    m_state.store(k_encoded, std::memory_order_release);
}

const CacheEntry& LazyCacheEntry::get() const
{
    std::uint8_t state = m_state.load(std::memory_order_acquire);
    if (state == k_encoded && m_state.compare_exchange_strong(state, k_decoding, std::memory_order_acq_rel)) {
        try {
            binary::Reader r(m_bytes);
            m_entry = std::make_unique<CacheEntry>(read_cache_entry(r, std::string(m_path)));
            if (!r.done())
                throw std::runtime_error("longer than its entry");
            g_decoded.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception&) {
            m_entry.reset();
            m_broken = true;
        }
        m_state.store(k_decoded, std::memory_order_release);
        m_state.notify_all();
        state = k_decoded;
    }
    while (state != k_decoded) {
        m_state.wait(state, std::memory_order_acquire);
        state = m_state.load(std::memory_order_acquire);
    }
    if (m_broken)
        throw Error(ErrorKind::internal, "the index entry of " + std::string(m_path) + " does not decode");
    static const CacheEntry k_empty;
    return m_entry ? *m_entry : k_empty;
}

void LazyCacheEntry::set(CacheEntry entry)
{
    m_path = {};
    m_bytes = {};
    m_broken = false;
    m_entry = std::make_unique<CacheEntry>(std::move(entry));
    m_state.store(k_decoded, std::memory_order_release);
}

CacheEntry LazyCacheEntry::take()
{
    get();
    CacheEntry entry = m_entry ? std::move(*m_entry) : CacheEntry{};
    m_path = {};
    m_bytes = {};
    m_entry.reset();
    m_state.store(k_decoded, std::memory_order_release);
    return entry;
}

std::uint64_t LazyCacheEntry::decoded_count()
{
    return g_decoded.load(std::memory_order_relaxed);
}

std::string encode_outputs(const AssetRecord& record, const std::vector<FileStat>& stats)
{
    binary::Writer w;
    std::size_t n = 0;
    for (const auto& o : record.outputs)
        n += 1 + o.encodings.size();
    w.u(n);
    std::size_t at = 0;
    auto one = [&](const std::string& path) {
        w.s(path);
        w.stat(at < stats.size() ? stats[at] : FileStat{});
        ++at;
    };
    for (const auto& o : record.outputs) {
        one(o.path);
        for (const auto& e : o.encodings)
            one(e.path);
    }
    return std::move(w.text());
}

bool each_output(std::string_view outputs, bool (*visit)(void*, std::string_view, const FileStat&), void* context)
{
    binary::Reader r(as_bytes(outputs));
    if (r.done())
        return true;
    for (std::uint64_t n = r.u(); n > 0; --n) {
        const std::string_view path = r.view();
        const FileStat stat = r.stat();
        if (!visit(context, path, stat))
            return false;
    }
    if (!r.done())
        throw std::runtime_error("outputs of another length");
    return true;
}

std::vector<FileStat> output_stats(std::string_view outputs)
{
    std::vector<FileStat> stats;
    each_output(outputs, [&](std::string_view, const FileStat& stat) {
        stats.push_back(stat);
        return true;
    });
    return stats;
}

} // namespace cachet
