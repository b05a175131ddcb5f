#include "pipeline/cache/record_codec.hpp"

#include "pipeline/cache/cache.hpp"

#include <cstring>

namespace cachet {

using binary::Reader;
using binary::Writer;

void write_record(Writer& w, const AssetRecord& r)
{
    w.u(static_cast<std::uint64_t>(r.kind));
    w.u(r.source_bytes);
    w.s(r.source_digest);
    w.u(r.outputs.size());
    for (const auto& o : r.outputs) {
        w.s(o.path);
        w.u(o.bytes);
        w.s(o.content_type);
        w.s(o.integrity);
        w.s(o.cache_control);
        w.u(o.headers.size());
        for (const auto& [name, value] : o.headers) {
            w.s(name);
            w.s(value);
        }
        w.s(o.vary);
        w.s(o.etag);
        w.u(o.fingerprinted);
        w.u(o.original);
        w.u(o.format ? static_cast<std::uint64_t>(*o.format) + 1 : 0);
        w.u(static_cast<std::uint64_t>(o.width));
        w.u(static_cast<std::uint64_t>(o.height));
        w.u(static_cast<std::uint64_t>(o.frames));
        w.u(o.quality ? static_cast<std::uint64_t>(*o.quality) + 1 : 0);
        w.u(o.butteraugli.has_value());
        if (o.butteraugli) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &*o.butteraugli, sizeof bits);
            w.u(bits);
        }
        w.u(o.encodings.size());
        for (const auto& e : o.encodings) {
            w.u(static_cast<std::uint64_t>(e.encoding));
            w.s(e.path);
            w.u(e.bytes);
            w.s(e.etag);
        }
    }
    w.u(r.placeholder.has_value());
    if (r.placeholder) {
        w.s(r.placeholder->data_uri);
        w.s(r.placeholder->dominant_color);
    }
}

namespace {

template <class Enum>
Enum enum_at(std::uint64_t v, Enum last)
{
    if (v > static_cast<std::uint64_t>(last))
        throw std::runtime_error("bad enum");
    return static_cast<Enum>(v);
}

} // namespace

AssetRecord read_record(Reader& r, std::string source)
{
    AssetRecord a;
    a.source = std::move(source);
    a.kind = enum_at(r.u(), AssetKind::unsupported);
    a.source_bytes = r.u();
    a.source_digest = r.s();
    const std::uint64_t outputs = r.u();
    a.outputs.reserve(r.capacity_for(outputs));
    for (std::uint64_t n = 0; n < outputs; ++n) {
        OutputFile o;
        o.path = r.s();
        o.bytes = r.u();
        o.content_type = r.s();
        o.integrity = r.s();
        o.cache_control = r.s();
        const std::uint64_t headers = r.u();
        for (std::uint64_t k = 0; k < headers; ++k) {
            std::string name = r.s();
            o.headers.emplace_back(std::move(name), r.s());
        }
        o.vary = r.s();
        o.etag = r.s();
        o.fingerprinted = r.u() != 0;
        o.original = r.u() != 0;
        if (const std::uint64_t f = r.u(); f != 0)
            o.format = enum_at(f - 1, static_cast<ImageFormat>(k_image_format_count - 1));
        o.width = r.small();
        o.height = r.small();
        o.frames = r.small();
        if (const std::uint64_t q = r.u(); q != 0)
            o.quality = static_cast<int>(q - 1);
        if (r.u() != 0) {
            const std::uint64_t bits = r.u();
            double d = 0;
            std::memcpy(&d, &bits, sizeof d);
            o.butteraugli = d;
        }
        const std::uint64_t encodings = r.u();
        o.encodings.reserve(r.capacity_for(encodings));
        for (std::uint64_t k = 0; k < encodings; ++k) {
            EncodedFile e;
            e.encoding = enum_at(r.u(), Encoding::gzip);
            e.path = r.s();
            e.bytes = r.u();
            e.etag = r.s();
            o.encodings.push_back(std::move(e));
        }
        a.outputs.push_back(std::move(o));
    }
    if (r.u() != 0) {
        a.placeholder = Placeholder{};
        a.placeholder->data_uri = r.s();
        a.placeholder->dominant_color = r.s();
    }
    return a;
}

void write_cache_entry(Writer& w, const CacheEntry& e)
{
    w.s(e.key);
    write_record(w, e.record);
    w.u(e.warnings.size());
    for (const auto& warning : e.warnings)
        w.s(warning);
    w.u(e.blobs.size());
    for (const auto& [p, sha] : e.blobs) {
        w.s(p);
        w.s(sha);
    }
}

CacheEntry read_cache_entry(Reader& r, std::string source)
{
    CacheEntry e;
    e.key = r.s();
    e.record = read_record(r, std::move(source));
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.warnings.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k) {
        std::string p = r.s();
        e.blobs.emplace_hint(e.blobs.end(), std::move(p), r.s());
    }
    return e;
}

// One source's entry, as the snapshot and the journal hold it: what a rebuild reads of every
// source first, the fragment, then its cache entry (its size first, so that a reader can leave
// it as it is until asked for it).
void write_entry(Writer& w, std::string_view path, const IndexEntry& e, const FileStat& source)
{
    w.s(path);
    w.stat(source);
    w.s(e.settings);
    w.s(e.fragment_digest);
    w.u(e.warned);
    w.s(e.outputs);
    w.s(e.tally);
    for (const auto* paths : {&e.loads, &e.back, &e.script_names, &e.kept}) {
        w.u(paths->size());
        for (const auto& p : *paths)
            w.s(p);
    }
    w.s(e.fragment);
    if (const ByteView bytes = e.entry.bytes(); !bytes.empty()) {
        w.s(as_text(bytes)); // as the snapshot it was read from holds it
        return;
    }
    thread_local Writer entry;
    entry.text().clear();
    write_cache_entry(entry, e.entry.get());
    w.s(entry.text());
}

std::pair<std::string, IndexEntry> read_entry(Reader& r, const std::shared_ptr<const void>& keep)
{
    const std::string_view path = r.view();
    IndexEntry e;
    auto text = [&] { return keep ? HeldText::viewing(r.view()) : HeldText(r.s()); };
    e.source = r.stat();
    e.settings = text();
    e.fragment_digest = text();
    e.warned = r.u() != 0;
    e.outputs = text();
    e.tally = text();
    for (auto* paths : {&e.loads, &e.back, &e.script_names, &e.kept}) {
        const std::uint64_t n = r.u();
        paths->reserve(r.capacity_for(n));
        for (std::uint64_t k = n; k > 0; --k)
            paths->push_back(r.s());
    }
    e.fragment = text();
    const ByteView entry = r.bytes(r.u());
    if (keep) {
        e.keep = keep;
        e.entry.encoded(path, entry);
    } else {
        Reader er(entry);
        e.entry.set(read_cache_entry(er, std::string(path)));
        if (!er.done())
            throw std::runtime_error("entry of another length");
    }
    return {std::string(path), std::move(e)};
}

void write_generations(Writer& w, const std::vector<Generation>& generations)
{
    w.u(generations.size());
    for (const auto& g : generations) {
        w.s(g.build_id);
        w.u(g.outputs.size());
        for (const auto& o : g.outputs)
            w.s(o);
    }
}

std::vector<Generation> read_generations(Reader& r)
{
    std::vector<Generation> generations;
    for (std::uint64_t g = r.u(); g > 0; --g) {
        Generation generation{r.s(), {}};
        for (std::uint64_t k = r.u(); k > 0; --k)
            generation.outputs.push_back(r.s());
        generations.push_back(std::move(generation));
    }
    return generations;
}

} // namespace cachet
