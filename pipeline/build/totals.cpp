#include "pipeline/build/totals.hpp"

#include "pipeline/build/scheduler.hpp"
#include "pipeline/cache/binary.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>

namespace cachet {
namespace {

constexpr std::size_t k_largest = 5;

// The five largest stay in order, largest first; on a tie the one added first (the assets
// come by path) stays ahead.
void keep_largest(std::vector<FileReport>& largest, const FileReport& file)
{
    if (largest.size() == k_largest && file.bytes <= largest.back().bytes)
        return;
    auto at = std::upper_bound(largest.begin(), largest.end(), file.bytes,
                               [](std::uint64_t bytes, const FileReport& f) { return bytes > f.bytes; });
    largest.insert(at, file);
    if (largest.size() > k_largest)
        largest.pop_back();
}

} // namespace

std::string large_file_message(const FileReport& file, std::uint64_t limit)
{
    return human_bytes(file.bytes) + " as delivered (" + file.format + "), over " + human_bytes(limit) +
           ": visitors download all of it; make it smaller, or set [[budgets]] to choose your own limits";
}

Tally Totals::tally_of(const Asset& asset, const AssetResult& result)
{
    Tally t;
    const AssetRecord& record = result.final_record();
    t.warned = result.has_warnings();
    t.modern = has_modern_format(record);
    if (const Delivered d = delivered(record); d.file) {
        t.delivered = true;
        t.bytes = d.bytes;
        t.plain = d.plain_bytes;
        t.format = d.format;
        std::size_t slot = k_identity;
        if (asset.kind == AssetKind::image && d.file->format)
            slot = static_cast<std::size_t>(*d.file->format);
        for (std::size_t e = 0; e < k_encodings.size(); ++e)
            if (d.format == to_string(k_encodings[e]))
                slot = k_identity + 1 + e;
        t.slot = static_cast<std::uint8_t>(slot);
    }
    bool fits = true;
    auto count = [&](std::size_t slot, std::uint64_t bytes) {
        for (std::size_t k = 0; k < t.slots_used; ++k)
            if (t.outputs[k].slot == slot) {
                ++t.outputs[k].files;
                t.outputs[k].bytes += bytes;
                return;
            }
        if (t.slots_used == Tally::k_slots) {
            fits = false;
            return;
        }
        t.outputs[t.slots_used++] = {static_cast<std::uint8_t>(slot), 1, bytes};
    };
    for (const auto& o : record.outputs) {
        if (o.original) {
            std::uint64_t bytes = o.bytes;
            for (const auto& e : o.encodings)
                bytes += e.bytes;
            count(k_originals, bytes);
            continue;
        }
        count(o.format ? static_cast<std::size_t>(*o.format) : k_identity, o.bytes);
        for (const auto& e : o.encodings)
            count(k_identity + 1 + static_cast<std::size_t>(e.encoding), e.bytes);
    }
    t.ok = fits;
    return t;
}

std::string encode_tally(const Tally& tally)
{
    if (!tally.ok)
        return {};
    binary::Writer w;
    w.u(static_cast<unsigned>(tally.delivered) | static_cast<unsigned>(tally.modern) << 1 |
        static_cast<unsigned>(tally.warned) << 2);
    w.u(tally.slot);
    w.u(tally.bytes);
    w.u(tally.plain);
    w.s(tally.format);
    w.u(tally.slots_used);
    for (std::size_t k = 0; k < tally.slots_used; ++k) {
        w.u(tally.outputs[k].slot);
        w.u(tally.outputs[k].files);
        w.u(tally.outputs[k].bytes);
    }
    return std::move(w.text());
}

std::optional<Tally> decode_tally(std::string_view text)
{
    if (text.empty())
        return std::nullopt;
    try {
        binary::Reader r(as_bytes(text));
        Tally t;
        t.ok = true;
        const std::uint64_t flags = r.u();
        t.delivered = (flags & 1) != 0;
        t.modern = (flags & 2) != 0;
        t.warned = (flags & 4) != 0;
        const std::uint64_t slot = r.u();
        t.bytes = r.u();
        t.plain = r.u();
        const std::string_view format = r.view();
        // (Delivered::format is static text: one of these names.)
        for (std::size_t f = 0; f < k_image_format_count && t.format.empty(); ++f)
            if (to_string(static_cast<ImageFormat>(f)) == format)
                t.format = to_string(static_cast<ImageFormat>(f));
        for (const Encoding e : k_encodings)
            if (t.format.empty() && to_string(e) == format)
                t.format = to_string(e);
        if (t.format.empty() && format == "identity")
            t.format = "identity";
        const std::uint64_t used = r.u();
        if ((t.format.empty() && !format.empty()) || slot > Totals::k_originals || used > Tally::k_slots)
            return std::nullopt;
        t.slot = static_cast<std::uint8_t>(slot);
        t.slots_used = static_cast<std::uint8_t>(used);
        for (std::size_t k = 0; k < used; ++k) {
            const std::uint64_t s = r.u();
            const std::uint64_t files = r.u();
            if (s > Totals::k_originals || files > UINT32_MAX)
                return std::nullopt;
            t.outputs[k] = {static_cast<std::uint8_t>(s), static_cast<std::uint32_t>(files), r.u()};
        }
        if (!r.done())
            return std::nullopt;
        return t;
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

void Totals::add(const Asset& asset, const AssetResult& result, Summary& summary)
{
    add(asset, result, result.status == AssetResult::Status::failed ? Tally{} : tally_of(asset, result), summary);
}

void Totals::add(const Asset& asset, const AssetResult& result, const Tally& tally, Summary& summary)
{
    Kind& kind = m_kinds[static_cast<std::size_t>(asset.kind)];
    ++kind.totals.assets;
    kind.totals.bytes_in += asset.bytes;
    if (result.status == AssetResult::Status::failed) {
        ++kind.totals.failed;
        summary.failures.emplace_back(asset.path, result.message);
        return;
    }
    if (tally.warned)
        for (const auto& w : result.final_warnings())
            summary.warnings.emplace_back(asset.path, w);
    if (result.status == AssetResult::Status::cached)
        ++kind.totals.cached;
    if (asset.kind == AssetKind::image)
        ++(tally.modern ? summary.images_modern : summary.images_not_modern);
    if (tally.delivered) {
        kind.totals.delivered += tally.bytes;
        kind.totals.plain += tally.plain;
        kind.delivered_as[tally.slot] = true;
        // (A text grows by its rewritten, longer URLs: expected, and compressed away.)
        const bool grown = asset.kind != AssetKind::text && std::max(tally.bytes, tally.plain) > asset.bytes;
        const bool large = m_large_bytes > 0 && asset.kind != AssetKind::passthrough && tally.bytes > m_large_bytes;
        const bool largest = summary.largest.size() < k_largest || tally.bytes > summary.largest.back().bytes;
        if (grown || large || largest) { // (most files are none: their report is not made)
            const FileReport file{asset.path,  std::string(to_string(asset.kind)), asset.bytes,
                                  tally.bytes, std::string(tally.format),          tally.plain};
            if (largest)
                keep_largest(summary.largest, file);
            if (grown)
                summary.grown.push_back(file);
            if (large) {
                summary.large.push_back(file);
                summary.warnings.emplace_back(asset.path, large_file_message(file, m_large_bytes));
            }
        }
    }
    if (asset.kind == AssetKind::image && !tally.modern)
        summary.not_modern.push_back(asset.path);
    if (tally.ok) {
        for (std::size_t k = 0; k < tally.slots_used; ++k) {
            FormatTotals& f = kind.outputs[tally.outputs[k].slot];
            f.files += tally.outputs[k].files;
            f.bytes += tally.outputs[k].bytes;
        }
        return;
    }
    for (const auto& o : result.final_record().outputs) {
        if (o.original) {
            FormatTotals& f = kind.outputs[k_originals];
            ++f.files;
            f.bytes += o.bytes;
            for (const auto& e : o.encodings)
                f.bytes += e.bytes;
            continue;
        }
        FormatTotals& f = kind.outputs[o.format ? static_cast<std::size_t>(*o.format) : k_identity];
        ++f.files;
        f.bytes += o.bytes;
        for (const auto& e : o.encodings) {
            FormatTotals& enc = kind.outputs[k_identity + 1 + static_cast<std::size_t>(e.encoding)];
            ++enc.files;
            enc.bytes += e.bytes;
        }
    }
}

void Totals::merge(const Totals& other, Summary& summary, Summary&& into_other)
{
    for (std::size_t k = 0; k < m_kinds.size(); ++k) {
        KindTotals& to = m_kinds[k].totals;
        const KindTotals& from = other.m_kinds[k].totals;
        to.assets += from.assets;
        to.cached += from.cached;
        to.failed += from.failed;
        to.bytes_in += from.bytes_in;
        to.delivered += from.delivered;
        to.plain += from.plain;
        for (std::size_t o = 0; o < m_kinds[k].outputs.size(); ++o) {
            m_kinds[k].outputs[o].files += other.m_kinds[k].outputs[o].files;
            m_kinds[k].outputs[o].bytes += other.m_kinds[k].outputs[o].bytes;
            m_kinds[k].delivered_as[o] = m_kinds[k].delivered_as[o] || other.m_kinds[k].delivered_as[o];
        }
    }
    auto append = [](auto& to, auto& from) {
        to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    };
    append(summary.failures, into_other.failures);
    append(summary.warnings, into_other.warnings);
    append(summary.grown, into_other.grown);
    append(summary.large, into_other.large);
    append(summary.not_modern, into_other.not_modern);
    summary.images_modern += into_other.images_modern;
    summary.images_not_modern += into_other.images_not_modern;
    for (const auto& file : into_other.largest) // (after an equal one already there, as if added later)
        keep_largest(summary.largest, file);
}

void count_all(const std::vector<Asset>& assets, const std::vector<AssetResult>& results,
               const std::vector<char>& skipped, std::uint64_t large_bytes, unsigned workers, Summary& summary,
               Tallies* tallies)
{
    constexpr std::size_t k_per_worker = 8192; // fewer: not worth a thread
    const std::size_t n = assets.size();
    const std::size_t parts = std::clamp<std::size_t>(n / k_per_worker, 1, std::max(1U, workers));
    std::vector<Totals> totals(parts, Totals(large_bytes));
    std::vector<Summary> pieces(parts);
    const bool kept = tallies && tallies->same_sources && tallies->by_source.size() == n;
    if (tallies && !kept)
        tallies->by_source.assign(n, Tally{});
    parallel_for(static_cast<unsigned>(parts), parts, [&](std::size_t p) {
        for (std::size_t i = n * p / parts; i < n * (p + 1) / parts; ++i) {
            if (skipped[i])
                continue;
            Summary& into = p == 0 ? summary : pieces[p];
            if (results[i].status == AssetResult::Status::failed) {
                totals[p].add(assets[i], results[i], Tally{}, into);
                if (tallies)
                    tallies->by_source[i] = Tally{};
            } else if (kept && results[i].entry && tallies->by_source[i].ok) { // the same entry as then
                totals[p].add(assets[i], results[i], tallies->by_source[i], into);
            } else if (const auto held = results[i].entry ? decode_tally(results[i].entry->tally) : std::nullopt) {
                totals[p].add(assets[i], results[i], *held, into); // as the last build counted it
                if (tallies)
                    tallies->by_source[i] = *held;
            } else {
                const Tally tally = Totals::tally_of(assets[i], results[i]);
                totals[p].add(assets[i], results[i], tally, into);
                if (tallies)
                    tallies->by_source[i] = tally;
            }
        }
    });
    for (std::size_t p = 1; p < parts; ++p)
        totals[0].merge(totals[p], summary, std::move(pieces[p]));
    totals[0].name(summary);
}

std::string_view Totals::slot_name(std::size_t slot)
{
    return slot < k_identity     ? to_string(static_cast<ImageFormat>(slot))
           : slot == k_identity  ? std::string_view("identity")
           : slot == k_originals ? std::string_view("originals")
                                 : to_string(static_cast<Encoding>(slot - k_identity - 1));
}

void Totals::name(Summary& summary) const
{
    for (std::size_t k = 0; k < m_kinds.size(); ++k) {
        const Kind& kind = m_kinds[k];
        if (kind.totals.assets == 0)
            continue;
        KindTotals& totals = summary.kinds[std::string(to_string(static_cast<AssetKind>(k)))];
        totals = kind.totals;
        for (std::size_t o = 0; o < kind.outputs.size(); ++o) {
            if (kind.outputs[o].files == 0)
                continue;
            totals.outputs[std::string(slot_name(o))] = kind.outputs[o];
        }
        for (std::size_t o = 0; o < kind.delivered_as.size(); ++o)
            if (kind.delivered_as[o])
                totals.delivered_as.emplace_back(slot_name(o));
    }
}

std::string last_build_json(const Summary& summary)
{
    std::uint64_t built = 0, cached = 0;
    std::string kinds;
    for (const auto& [kind, t] : summary.kinds) {
        built += t.built();
        cached += t.cached;
        kinds += (kinds.empty() ? "" : ", ") + ("\"" + kind + "\": {\"built\": " + std::to_string(t.built()) +
                                                ", \"cached\": " + std::to_string(t.cached) + "}");
    }
    return "{\"built\": " + std::to_string(built) + ", \"cached\": " + std::to_string(cached) + ", \"kinds\": {" +
           kinds + "}" + (summary.remote ? ", \"remote\": " + remote_stats_json(*summary.remote) : "") + "}\n";
}

std::string remote_stats_json(const RemoteStats& s)
{
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : s.problems)
        problems.push_back(printable(p));
    return nlohmann::json{{"hits", s.hits},         {"misses", s.misses},         {"damaged", s.damaged},
                          {"errors", s.errors},     {"timeouts", s.timeouts},     {"uploads", s.uploads},
                          {"bytes_up", s.bytes_up}, {"bytes_down", s.bytes_down}, {"problems", problems}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace cachet
