#include "pipeline/export/report.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/image/image_stack.hpp"
#include "pipeline/model/bytes.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "pipeline/publish/markup.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace cachet {
namespace {

namespace fs = std::filesystem;

// What the page says about one picture: an <img> (if within the budget) and its figures.
struct Shown {
    std::string label;
    std::string mime;
    Bytes bytes;
    std::optional<double> distance;
    std::vector<std::string> flags;
};

class Report {
public:
    explicit Report(const ReportOptions& options) : m_options(options) {}

    void image(const AssetRecord& record)
    {
        const Delivered d = delivered(record);
        if (!d.file)
            return;
        const int widest = d.plain->width;
        std::vector<Shown> shown;
        // The source, as it is in SRC when it is still the one built (else its original copy).
        std::optional<Raster> reference;
        Shown source{"source", "", {}, std::nullopt, {}};
        std::string note;
        if (!m_options.source_dir.empty()) {
            try {
                Bytes bytes = read_file(m_options.source_dir / record.source);
                if ("sha256-" + sha256_hex(bytes) != record.source_digest) {
                    note = "the source changed since the build: no distances";
                } else {
                    reference = decoded(bytes);
                    source.bytes = std::move(bytes);
                }
            } catch (const Error& e) {
                note = std::string("no distances: ") + e.what();
            }
        }
        source.mime = std::string(content_type_for(record.source));
        if (source.bytes.empty() || !browser_shows(source.mime)) {
            // Shown through its copy at its own URL, or (a TIFF, which browsers do not show)
            // through the fallback a plain <img> gets.
            const OutputFile* copy = d.plain;
            for (const auto& o : record.outputs)
                if (o.original && browser_shows(o.content_type))
                    copy = &o;
            source.label = "source (shown as its " + std::string(copy->original ? "copy" : "fallback") + ", " +
                           std::string(copy->format ? to_string(*copy->format) : copy->content_type) + ")";
            source.mime = copy->content_type;
            source.bytes = read_output(copy->path);
        }
        std::vector<std::string> flags;
        for (const auto& o : record.outputs) {
            if (o.original || o.width != widest || !o.format)
                continue;
            Shown s{std::string(to_string(*o.format)) + " " + std::to_string(o.width) + "×" + std::to_string(o.height),
                    o.content_type,
                    read_output(o.path),
                    std::nullopt,
                    {}};
            if (reference) {
                if (const auto raster = decoded(s.bytes);
                    raster && raster->width == reference->width && raster->height == reference->height)
                    s.distance = image_stack().butteraugli_distance(*reference, *raster);
            }
            if (o.bytes > record.source_bytes)
                s.flags.push_back("bigger than the source");
            shown.push_back(std::move(s));
        }
        if (d.plain_bytes > record.source_bytes || d.bytes > record.source_bytes)
            flags.push_back("delivered bigger than its source");
        if (!has_modern_format(record))
            flags.push_back("not delivered in a modern format: no AVIF, WebP or JPEG XL came out smaller");
        ++m_images;
        m_source_bytes += record.source_bytes;
        m_delivered += d.bytes;
        m_plain += d.plain_bytes;
        m_flagged += flags.empty() ? 0 : 1;

        std::string card = "<section class=\"image" + std::string(flags.empty() ? "" : " flagged") + "\"><h2>" +
                           html_escape(record.source) + "</h2><p class=\"facts\">" + human_bytes(record.source_bytes) +
                           " source; a current browser gets " + human_bytes(d.bytes) + " (" + std::string(d.format) +
                           ", " + percent_change(record.source_bytes, d.bytes) + "), a plain &lt;img&gt; " +
                           human_bytes(d.plain_bytes) + " (" + percent_change(record.source_bytes, d.plain_bytes) + ")";
        if (!note.empty())
            card += "; " + html_escape(note);
        card += "</p>";
        for (const auto& f : flags)
            card += "<p class=\"flag\">" + html_escape(f) + "</p>";
        card += "<div class=\"row\">" + figure(source, record.source_bytes, true);
        for (const auto& s : shown)
            card += figure(s, record.source_bytes, false);
        m_cards += card + "</div></section>\n";
    }

    void text(const AssetRecord& record)
    {
        const Delivered d = delivered(record);
        if (!d.file)
            return;
        m_text_rows += "<tr><td>" + html_escape(record.source) + "</td><td>" + human_bytes(record.source_bytes) +
                       "</td><td>" + human_bytes(d.plain_bytes) + "</td><td>" + human_bytes(d.bytes) + " (" +
                       std::string(d.format) + ")</td><td>" + percent_change(record.source_bytes, d.bytes) +
                       "</td></tr>\n";
        m_text_source += record.source_bytes;
        m_text_delivered += d.bytes;
        ++m_texts;
    }

    std::string page() const
    {
        std::string out =
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\"><title>cachet report</title><style>"
            "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
            "h1{font-size:1.6em}h2{font-size:1.1em;margin:.2em 0;word-break:break-all}"
            "section.image{border:1px solid #ccc;border-radius:6px;padding:.8em;margin:1em 0}"
            "section.flagged{border-color:#c60}.flag{color:#a40;font-weight:600;margin:.2em 0}"
            ".row{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;width:220px}"
            "figure img{max-width:220px;max-height:220px;background:repeating-conic-gradient(#eee 0 25%,#fff 0 50%) "
            "0 0/16px 16px;display:block}"
            "figcaption{font-size:12px}.big{color:#a40}table{border-collapse:collapse}"
            "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right}td:first-child{text-align:left}"
            "</style></head><body>\n<h1>cachet report</h1>\n<p id=\"totals\">" +
            std::to_string(m_images) + " images";
        if (m_images > 0) // (a site without images, or without texts, has no percentages to give)
            out += ": " + human_bytes(m_source_bytes) + " of sources; a current browser gets " +
                   human_bytes(m_delivered) + " (" + percent_change(m_source_bytes, m_delivered) +
                   ") at full size, a plain &lt;img&gt; " + human_bytes(m_plain) + " (" +
                   percent_change(m_source_bytes, m_plain) + "); " + std::to_string(m_flagged) + " flagged";
        out += ". " + std::to_string(m_texts) + " texts";
        if (m_texts > 0)
            out += ": " + human_bytes(m_text_source) + " → " + human_bytes(m_text_delivered) + " (" +
                   percent_change(m_text_source, m_text_delivered) + ") compressed";
        out += ".</p>\n";
        if (m_omitted > 0)
            out += "<p>" + std::to_string(m_omitted) + " pictures are not shown: the page holds at most " +
                   human_bytes(m_options.embed_budget) + " of them.</p>\n";
        out += m_cards;
        out += "<h2>Texts</h2>\n<table id=\"texts\"><tr><th>source</th><th>bytes</th><th>rewritten</th>"
               "<th>delivered</th><th>change</th></tr>\n" +
               m_text_rows + "</table>\n</body></html>\n";
        return out;
    }

private:
    static bool browser_shows(std::string_view mime)
    {
        return mime.starts_with("image/jpeg") || mime.starts_with("image/png") || mime.starts_with("image/gif") ||
               mime.starts_with("image/webp") || mime.starts_with("image/avif");
    }

    Bytes read_output(const std::string& path) const { return read_file(m_options.out_dir / path); }

    // The image's pixels in sRGB, as the build saw them (oriented); null for what cannot be
    // decoded, or an animation (only still images are compared).
    static std::optional<Raster> decoded(const Bytes& bytes)
    {
        try {
            DecodedImage image =
                image_stack().decode_image(bytes, std::uint64_t{1} << 28, Colour::srgb, AnimationLimits{false, 1, 0});
            return std::move(image.raster);
        } catch (const Error&) {
            return std::nullopt;
        }
    }

    std::string figure(const Shown& s, std::uint64_t source_bytes, bool is_source)
    {
        std::string out = "<figure>";
        if (!s.bytes.empty() && m_embedded + s.bytes.size() <= m_options.embed_budget) {
            m_embedded += s.bytes.size();
            out += "<img alt=\"" + html_escape(s.label) + "\" src=\"data:" + html_escape(s.mime) + ";base64," +
                   base64(s.bytes) + "\">";
        } else if (!s.bytes.empty()) {
            ++m_omitted;
        }
        out += "<figcaption><b>" + html_escape(s.label) + "</b><br>" +
               human_bytes(is_source ? source_bytes : s.bytes.size());
        if (!is_source) {
            out += " (" + percent_change(source_bytes, s.bytes.size()) + ")";
            if (s.distance) {
                char buffer[64];
                std::snprintf(buffer, sizeof buffer, "<br>Butteraugli <span class=\"distance\">%.2f</span>",
                              *s.distance);
                out += buffer;
            }
        }
        for (const auto& f : s.flags)
            out += "<br><span class=\"big\">" + html_escape(f) + "</span>";
        return out + "</figcaption></figure>";
    }

    const ReportOptions& m_options;
    std::string m_cards, m_text_rows;
    std::uint64_t m_embedded = 0, m_omitted = 0;
    std::uint64_t m_images = 0, m_source_bytes = 0, m_delivered = 0, m_plain = 0, m_flagged = 0;
    std::uint64_t m_texts = 0, m_text_source = 0, m_text_delivered = 0;
};

} // namespace

std::string report_html(const std::vector<AssetRecord>& records, const ReportOptions& options)
{
    Report report(options);
    for (const auto& r : records)
        if (r.kind == AssetKind::image)
            report.image(r);
    for (const auto& r : records)
        if (r.kind == AssetKind::text)
            report.text(r);
    return report.page();
}

} // namespace cachet
