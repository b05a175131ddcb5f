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

// One source's entry, as the snapshot and the journal hold it.
void write_entry(Writer& w, const std::string& path, const IndexEntry& e)
{
    w.s(path);
    w.stat(e.source);
    w.s(e.entry.key);
    write_record(w, e.entry.record);
    w.u(e.entry.warnings.size());
    for (const auto& warning : e.entry.warnings)
        w.s(warning);
    w.u(e.entry.blobs.size());
    for (const auto& [p, sha] : e.entry.blobs) {
        w.s(p);
        w.s(sha);
    }
    w.u(e.outputs.size());
    for (const auto& s : e.outputs)
        w.stat(s);
    w.s(e.fragment);
    w.s(e.settings);
    for (const auto* paths : {&e.loads, &e.back, &e.script_names, &e.kept}) {
        w.u(paths->size());
        for (const auto& p : *paths)
            w.s(p);
    }
    w.s(e.fragment_digest);
}

std::pair<std::string, IndexEntry> read_entry(Reader& r)
{
    std::string path = r.s();
    IndexEntry e;
    e.source = r.stat();
    e.entry.key = r.s();
    e.entry.record = read_record(r, path);
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.entry.warnings.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k) {
        std::string p = r.s();
        e.entry.blobs.emplace_hint(e.entry.blobs.end(), std::move(p), r.s());
    }
    const std::uint64_t outputs = r.u();
    e.outputs.reserve(r.capacity_for(outputs));
    for (std::uint64_t k = outputs; k > 0; --k)
        e.outputs.push_back(r.stat());
    e.fragment = r.s();
    e.settings = r.s();
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.loads.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.back.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.script_names.push_back(r.s());
    for (std::uint64_t k = r.u(); k > 0; --k)
        e.kept.push_back(r.s());
    e.fragment_digest = r.s();
    return {std::move(path), std::move(e)};
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
