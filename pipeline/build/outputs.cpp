#include "pipeline/build/outputs.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/glob.hpp"
#include "pipeline/fs/inside.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/headers.hpp"
#include "pipeline/text/compress.hpp"
#include "pipeline/text/fingerprint.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <unistd.h>

namespace cachet {

namespace fs = std::filesystem;

bool keeps_name(const Preset& preset, const std::string& path)
{
    const std::string ext = extension_of(path);
    // Dotfiles and what dot-folders hold (.htaccess, .nojekyll, .well-known/...) are read by
    // servers and tools at exactly that name.
    const bool dotted = path.starts_with('.') || path.find("/.") != std::string::npos;
    return dotted || ext == "html" || ext == "htm" || glob_match_any(preset.output.stable, path) ||
           is_service_worker(preset.output, path);
}

std::size_t ReusedOutputs::conflict(std::string_view path, std::string_view digest) const
{
    const std::string_view prefix = owner_prefix(path);
    auto i = static_cast<std::size_t>(
        std::lower_bound(m_assets.begin(), m_assets.end(), prefix,
                         [](const Asset& a, std::string_view p) { return std::string_view(a.path) < p; }) -
        m_assets.begin());
    for (; i < m_assets.size() && std::string_view(m_assets[i].path).starts_with(prefix); ++i) {
        if (!m_reused[i] || !m_results[i].names_output(path)) // (no record decoded for a name it does not have)
            continue;
        const AssetRecord& record = m_results[i].final_record();
        const auto& blobs = m_results[i].entry ? m_results[i].entry->entry.get().blobs : m_states[i].blobs;
        auto owned = [&](const std::string& name) {
            if (name != path)
                return false;
            const auto blob = blobs.find(name); // a passthrough's bytes are its source's
            const std::string_view content = blob != blobs.end()
                                                 ? std::string_view(blob->second)
                                                 : std::string_view(record.source_digest)
                                                       .substr(std::min<std::size_t>(7, record.source_digest.size()));
            return content != digest;
        };
        for (const auto& o : record.outputs) {
            if (owned(o.path))
                return i;
            for (const auto& e : o.encodings)
                if (owned(e.path))
                    return i;
        }
    }
    return k_none;
}

namespace {

Error collision(const std::string& path, const std::string& first, const std::string& second)
{
    return Error(ErrorKind::asset,
                 "output name collision: " + path + " would be written by both " + first + " and " + second);
}

} // namespace

void OutputNames::claim(const std::string& path, const std::string& digest, const std::string& source)
{
    std::lock_guard lock(m_mutex);
    const auto [it, inserted] = m_claims.try_emplace(path, Claim{digest, source});
    if (!inserted && it->second.digest != digest)
        throw collision(path, it->second.source, source);
    if (inserted)
        if (const std::size_t owner = m_reused.conflict(path, digest); owner != ReusedOutputs::k_none) {
            m_claims.erase(it);
            throw collision(path, m_reused.source(owner), source);
        }
}

void WrittenFiles::add(const std::string& path)
{
    std::lock_guard lock(m_mutex);
    if (m_paths.size() <= k_few)
        m_paths.push_back(path);
    ++m_count;
}

void WrittenFiles::check_folders(std::string_view path)
{
    const std::size_t slash = path.rfind('/');
    if (slash == std::string_view::npos)
        return; // OUT itself may well be a link: the user chose it
    const std::string_view folder = path.substr(0, slash);
    {
        std::lock_guard lock(m_mutex);
        if (m_real_folders.count(folder) != 0)
            return;
    }
    if (const auto link = link_on_the_way(m_out, folder))
        throw Error(ErrorKind::asset, (m_out / *link).string() +
                                          " is a symbolic link: cachet never writes through a link inside the "
                                          "output folder (it may point anywhere); remove it");
    std::lock_guard lock(m_mutex);
    m_real_folders.emplace(folder);
}

void WrittenFiles::flush() const
{
    const fs::path& out = m_out;
    if (m_count == 0)
        return;
    auto sync = [](const fs::path& p, bool whole_fs) {
        const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (whole_fs ? syncfs(fd) : fdatasync(fd)) != 0) {
            const int err = errno;
            if (fd >= 0)
                close(fd);
            throw io_error(p.string(), "cannot flush to disk", err);
        }
        close(fd);
    };
    if (m_count > k_few) {
        sync(out, true);
        return;
    }
    std::set<fs::path> folders; // where the renames into place happened
    for (const auto& p : m_paths) {
        sync(out / p, false);
        folders.insert((out / p).parent_path());
    }
    for (const auto& f : folders)
        sync(f, false);
}

std::string WrittenFiles::staging_name(std::string_view path)
{
    const auto slash = path.rfind('/');
    const std::size_t name = slash == std::string_view::npos ? 0 : slash + 1;
    return std::string(path.substr(0, name)) + temporary_name(path.substr(name), "stage-");
}

void WrittenFiles::stage(const std::string& path)
{
    std::lock_guard lock(m_mutex);
    m_staged.insert(path);
}

std::string WrittenFiles::written_at(const std::string& path) const
{
    std::lock_guard lock(m_mutex);
    return m_staged.count(path) ? staging_name(path) : path;
}

std::vector<std::pair<std::string, std::string>> WrittenFiles::staged_renames() const
{
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<std::string, std::string>> renames;
    renames.reserve(m_staged.size());
    for (const auto& path : m_staged)
        renames.emplace_back(staging_name(path), path);
    return renames;
}

void WrittenFiles::staged_committed()
{
    std::lock_guard lock(m_mutex);
    m_staged.clear();
}

void WrittenFiles::discard_staged()
{
    std::lock_guard lock(m_mutex);
    for (const auto& p : m_staged)
        ::unlink((m_out / staging_name(p)).c_str());
    m_staged.clear();
}

namespace {

// Throws Error(asset) if a segment of path is longer than a file name may be: that output fails
// its source only, as any other asset failure.
void check_name_length(const std::string& path)
{
    constexpr std::size_t k_name_max = 255;
    std::size_t start = 0;
    for (std::size_t slash = path.find('/'); start <= path.size(); slash = path.find('/', start)) {
        const std::size_t end = slash == std::string::npos ? path.size() : slash;
        if (end - start > k_name_max)
            throw Error(ErrorKind::asset, "output name " + path.substr(start, 40) + "... is " +
                                              std::to_string(end - start) + " bytes long, over the " +
                                              std::to_string(k_name_max) +
                                              " a file name may have; shorten the source's name");
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
}

} // namespace

OutputFile OutputWriter::name_output(const std::string& source, const std::string& name, const std::string& digest,
                                     std::string integrity, std::uint64_t bytes) const
{
    const bool stable = keeps_name(source);
    OutputFile out;
    out.fingerprinted = !stable;
    out.path = stable ? name
                      : fingerprinted_path(name, std::string_view(digest).substr(
                                                     0, static_cast<std::size_t>(m_config.preset.output.hash_length)));
    out.bytes = bytes;
    out.content_type = content_type_for(out.path);
    out.integrity = std::move(integrity);
    out.etag = strong_etag(digest); // Cache-Control and the other headers: apply_headers()
    check_name_length(out.path);
    m_names.claim(out.path, digest, source);
    return out;
}

OutputFile OutputWriter::write(const std::string& source, const std::string& name, ByteView data,
                               AssetState& state) const
{
    const std::string sha256 = sha256_hex(data);
    OutputFile out = name_output(source, name, sha256, sri_sha384(data), data.size());
    write_file(out.path, data, out.fingerprinted);
    keep_blob(out.path, sha256, data, state);
    return out;
}

OutputFile OutputWriter::write_original(const std::string& source, const OutputFile& like, ByteView data,
                                        AssetState& state) const
{
    const std::string sha256 = sha256_hex(data);
    OutputFile out;
    out.path = source;
    out.bytes = data.size();
    out.content_type = content_type_for(source);
    out.integrity = like.bytes == data.size() && like.etag == strong_etag(sha256) ? like.integrity : sri_sha384(data);
    out.etag = strong_etag(sha256);
    out.original = true;
    out.format = like.format;
    out.width = like.width;
    out.height = like.height;
    out.frames = like.frames;
    if (out.etag == like.etag) { // the same bytes: what chose them too
        out.quality = like.quality;
        out.butteraugli = like.butteraugli;
    }
    m_names.claim(out.path, sha256, source);
    write_file(out.path, data, false);
    keep_blob(out.path, sha256, data, state);
    return out;
}

void OutputWriter::write_variant(const std::string& source, OutputFile& out, Encoding encoding, ByteView data,
                                 AssetState& state) const
{
    EncodedFile variant;
    variant.encoding = encoding;
    variant.path = out.path + "." + std::string(sidecar_extension(encoding));
    check_name_length(variant.path);
    variant.bytes = data.size();
    const std::string sha256 = sha256_hex(data);
    variant.etag = strong_etag(sha256);
    m_names.claim(variant.path, sha256, source);
    write_file(variant.path, data, out.fingerprinted);
    keep_blob(variant.path, sha256, data, state);
    out.encodings.push_back(std::move(variant));
}

void OutputWriter::keep_blob(const std::string& path, const std::string& sha256, ByteView data, AssetState& state) const
{
    if (!m_cache)
        return;
    m_cache->store_blob(sha256, data);
    state.blobs[path] = sha256;
}

void OutputWriter::write_file(const std::string& path, ByteView data, bool fingerprinted) const
{
    m_written.check_folders(path);
    if (fingerprinted) {
        m_fs.write(m_config.output / path, data, Durability::deferred);
        m_written.add(path);
        return;
    }
    const std::string staged = WrittenFiles::staging_name(path);
    m_fs.write(m_config.output / staged, data, Durability::deferred);
    m_written.add(staged);
    m_written.stage(path);
}

void OutputWriter::claim_all(const AssetRecord& record, const std::map<std::string, std::string>& blobs) const
{
    const std::string source_sha = record.source_digest.substr(std::min<std::size_t>(7, record.source_digest.size()));
    for (const auto& path : output_paths(record)) {
        const auto it = blobs.find(path);
        m_names.claim(path, it != blobs.end() ? it->second : source_sha, record.source);
    }
}

void OutputWriter::copy(const Asset& asset, AssetRecord& record, bool original) const
{
    m_written.check_folders(asset.path);
    const fs::path provisional = m_config.output / asset.path;
    std::error_code ec;
    fs::create_directories(provisional.parent_path(), ec);
    if (ec)
        throw io_error(provisional.parent_path().string(), "cannot create folder", ec.value());
    std::ifstream in(asset.absolute, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::asset, asset.absolute + ": cannot read");
    AtomicFile file(provisional);
    StreamDigest digest;
    std::vector<char> buffer(1 << 20);
    std::uint64_t total = 0;
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto n = static_cast<std::size_t>(in.gcount());
        const ByteView piece(reinterpret_cast<const std::uint8_t*>(buffer.data()), n);
        digest.update(piece);
        file.write(piece);
        total += n;
    }
    if (in.bad())
        throw Error(ErrorKind::asset, asset.absolute + ": read error");
    auto [sha256, integrity] = digest.finish();
    OutputFile out = name_output(asset.path, asset.path, sha256, std::move(integrity), total);
    const std::string at = out.fingerprinted ? out.path : WrittenFiles::staging_name(out.path);
    file.commit_as(m_config.output / at, Durability::deferred);
    m_written.add(at);
    if (!out.fingerprinted)
        m_written.stage(out.path);
    record.source_bytes = total;
    record.source_digest = "sha256-" + sha256;
    if (original && out.path != asset.path) {
        OutputFile copy = out;
        copy.path = asset.path;
        copy.fingerprinted = false;
        copy.original = true;
        m_names.claim(copy.path, sha256, asset.path);
        const std::string staged = WrittenFiles::staging_name(copy.path);
        link_atomic(m_config.output / out.path, m_config.output / staged);
        m_written.add(staged);
        m_written.stage(copy.path);
        record.outputs.push_back(std::move(out));
        record.outputs.push_back(std::move(copy));
        return;
    }
    record.outputs.push_back(std::move(out));
}

} // namespace cachet
