#include "pipeline/cache/layout.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <sys/stat.h>

namespace cachet::cache_layout {

namespace fs = std::filesystem;
using nlohmann::json;

json entry_json(const CacheEntry& e)
{
    return json{{"key", e.key},
                {"source", e.record.source},
                {"record", json::parse(record_json(e.record))},
                {"warnings", e.warnings},
                {"blobs", e.blobs}};
}

CacheEntry entry_from(const json& j)
{
    CacheEntry e;
    e.key = j.at("key").get<std::string>();
    e.record = parse_record(j.at("source").get<std::string>(), j.at("record").dump());
    e.warnings = j.at("warnings").get<std::vector<std::string>>();
    e.blobs = j.at("blobs").get<std::map<std::string, std::string>>();
    return e;
}

bool is_hex_name(const std::string& name, std::size_t length)
{
    return name.size() == length &&
           std::all_of(name.begin(), name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::vector<fs::directory_entry> fanned_files(const fs::path& dir)
{
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    for (fs::directory_iterator outer(dir, ec), end; !ec && outer != end; outer.increment(ec)) {
        if (!outer->is_directory(ec))
            continue;
        for (fs::directory_iterator inner(outer->path(), ec); !ec && inner != end; inner.increment(ec))
            if (inner->is_regular_file(ec) && !inner->path().filename().string().starts_with(k_temporary_prefix))
                out.push_back(*inner);
    }
    return out;
}

std::uint64_t remove_temporaries_before(const fs::path& dir, std::int64_t older_than_ns)
{
    std::uint64_t removed = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().starts_with(k_temporary_prefix) && !it->is_symlink(ec) &&
            it->is_regular_file(ec) && mtime_of(it->path()) < older_than_ns && fs::remove(it->path(), ec))
            ++removed;
    return removed;
}

std::uint64_t size_of(const fs::directory_entry& e)
{
    std::error_code ec;
    const auto n = e.file_size(ec);
    return ec ? 0 : n;
}

std::int64_t mtime_of(const fs::path& p)
{
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
        return 0;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

void remove_quietly(const fs::path& p)
{
    std::error_code ec;
    fs::remove(p, ec);
}

std::string index_name(const fs::path& out)
{
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(out), ec);
    return sha256_hex(as_bytes(canonical.string())).substr(0, 32);
}

} // namespace cachet::cache_layout
