#include "pipeline/build/image_job.hpp"

#include "pipeline/image/jpeg_segments.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/text/fingerprint.hpp"

#include <algorithm>

namespace cachet {

std::vector<int> output_widths(const std::vector<int>& widths, int source_width)
{
    std::vector<int> out;
    for (const int w : widths)
        if (w < source_width)
            out.push_back(w);
    out.push_back(source_width);
    return out;
}

std::shared_ptr<ImageJob> start_image_job(const Preset& preset, const Asset& asset, ByteView source,
                                          AssetResult& result, AssetState& state)
{
    const ImageStack& stack = image_stack();
    auto job = std::make_shared<ImageJob>();
    job->asset = &asset;
    job->result = &result;
    job->state = &state;
    job->images = image_settings_for(preset, asset.path);
    ImageSettings& images = job->images;
    job->decoded = stack.decode_image(source, images.max_pixels, images.colour,
                                      AnimationLimits{images.animate, images.max_frames, images.max_animation_pixels});
    DecodedImage& decoded = job->decoded;
    result.warnings = std::move(decoded.warnings);
    decoded.raster.exif = stack.kept_exif(decoded.exif, images.keep_metadata);
    if (decoded.animation)
        decoded.animation->frames.front().exif = decoded.raster.exif; // encoders read the first frame's
    const Raster& raster = decoded.raster;                            // the first frame of an animation
    const Animation* animation = decoded.animation ? &*decoded.animation : nullptr;
    result.record.placeholder = stack.make_placeholder(raster, images);
    // quality = "auto": one search per format and source (first frame), reused at every width.
    for (const ImageFormat format : images.formats) {
        const QualitySetting setting = quality_setting(images, format);
        if (!setting.mode || *setting.mode != QualityMode::automatic)
            continue;
        const QualityChoice choice = stack.find_quality(format, raster, images, 1);
        *setting.quality = choice.quality;
        *setting.mode = QualityMode::fixed;
        job->chosen[format] = choice;
    }

    job->formats = images.formats;
    if (animation && animation->loop != 0 && std::erase(job->formats, ImageFormat::avif) != 0)
        result.warnings.push_back("no AVIF: the animation plays " + std::to_string(animation->loop) +
                                  " time(s), and libavif 0.11 cannot record a loop count (an AVIF sequence "
                                  "would loop forever)");
    if (images.fallback) {
        job->fallback = animation                                                       ? ImageFormat::gif
                        : decoded.family == SourceFamily::graphic || raster.has_alpha() ? ImageFormat::png
                                                                                        : ImageFormat::jpeg;
        job->formats.push_back(*job->fallback);
    }
    // Never heavier than the source: its own bytes may stand in for the fallback at its width.
    // Not when EXIF turns it or holds fields to keep, nor with a profile converted away.
    const std::optional<ImageFormat> own = image_format_of_extension(extension_of(asset.path));
    const PngProfile profile = images.colour == Colour::keep ? PngProfile::keep : PngProfile::refuse;
    // (A GIF shows what the outputs show unless it is animated and they are not.)
    if (job->fallback && own == ImageFormat::gif && (animation || images.animate))
        job->stand_in = ImageJob::StandIn{ImageFormat::gif, Bytes(source.begin(), source.end())};
    else if (job->fallback == own && !animation &&
             (decoded.exif.empty() || (images.keep_metadata.empty() && exif_upright(decoded.exif)))) {
        // EXIF of an upright image, no field of it to keep: dropped with the other metadata.
        const SourceExif exif = decoded.exif.empty() ? SourceExif::refuse : SourceExif::drop;
        std::optional<Bytes> bytes;
        if (own == ImageFormat::png)
            bytes = png_without_metadata(source, profile, exif);
        else if (own == ImageFormat::jpeg)
            bytes = jpeg_without_metadata(source, profile, exif);
        if (bytes)
            job->stand_in = ImageJob::StandIn{*own, std::move(*bytes)};
    }
    const bool name_widths = !images.widths.empty();
    job->stable = keeps_name(preset, asset.path);
    for (const int width : output_widths(images.widths, raster.width)) {
        auto w = std::make_unique<ImageJob::Width>();
        w->width = width;
        const bool suffix = name_widths && !(job->stable && width == raster.width);
        w->name = suffix ? insert_before_extension(asset.path, "-" + std::to_string(width) + "w") : asset.path;
        w->encoded.resize(job->formats.size());
        w->pending = static_cast<int>(job->formats.size());
        job->widths.push_back(std::move(w));
    }
    return job;
}

void resize_width(ImageJob& job, std::size_t width_index)
{
    const ImageStack& stack = image_stack();
    ImageJob::Width& w = *job.widths[width_index];
    const Animation* animation = job.decoded.animation ? &*job.decoded.animation : nullptr;
    const Raster& source = job.decoded.raster;
    const int frames = animation ? static_cast<int>(animation->frames.size()) : 1;
    if (w.width == source.width) {
        w.shape = ImageJob::Shape{source.width, source.height, frames};
    } else if (animation) {
        w.animation.delays_ms = animation->delays_ms;
        w.animation.loop = animation->loop;
        for (const Raster& frame : animation->frames)
            w.animation.frames.push_back(stack.resize_raster(frame, w.width, k_any_height));
        w.shape = ImageJob::Shape{w.animation.width(), w.animation.height(), frames};
    } else {
        w.raster = stack.resize_raster(source, w.width, k_any_height);
        w.shape = ImageJob::Shape{w.raster.width, w.raster.height, 1};
    }
}

void encode_width(ImageJob& job, std::size_t width_index, std::size_t format_index)
{
    const ImageStack& stack = image_stack();
    ImageJob::Width& w = *job.widths[width_index];
    const Animation* animation = job.decoded.animation ? &*job.decoded.animation : nullptr;
    const bool own = w.width == job.decoded.raster.width;
    const ImageFormat format = job.formats[format_index];
    const EncodeOptions options{job.images, 1};
    w.encoded[format_index] = animation
                                  ? stack.encoder_for(format).encode_animation(own ? *animation : w.animation, options)
                                  : stack.encoder_for(format).encode(own ? job.decoded.raster : w.raster, options);
    if (--w.pending == 0) { // this width's pixels are no longer needed
        w.raster = Raster{};
        w.animation = Animation{};
    }
}

namespace {

// Writes the encodes of one width that are not bigger; returns the bytes shipped in the
// source's own format at the source's own width, if any (and their output's index).
std::pair<const Bytes*, std::size_t> ship_width(const ImageJob& job, const ImageJob::Width& w,
                                                const OutputWriter& writer)
{
    // At the source's own width, the source's own bytes stand in for a fallback encode that
    // came out bigger.
    const bool own_width = w.width == job.decoded.raster.width;
    auto stands_in = [&](std::size_t i) {
        return own_width && job.stand_in && job.formats[i] == job.fallback &&
               job.stand_in->bytes.size() < w.encoded[i]->size();
    };
    auto bytes_of = [&](std::size_t i) -> const Bytes& { return stands_in(i) ? job.stand_in->bytes : *w.encoded[i]; };
    // A format other than the fallback ships only if smaller than every less preferred one.
    auto outweighed = [&](std::size_t i) {
        if (job.formats[i] == job.fallback)
            return false;
        for (std::size_t j = 0; j < job.formats.size(); ++j)
            if (info(job.formats[j]).preference < info(job.formats[i]).preference && w.encoded[j] &&
                bytes_of(i).size() >= bytes_of(j).size())
                return true;
        return false;
    };
    const std::optional<ImageFormat> own_format = image_format_of_extension(extension_of(job.asset->path));
    std::pair<const Bytes*, std::size_t> own{nullptr, 0};
    AssetRecord& record = job.result->record;
    for (std::size_t i = 0; i < job.formats.size(); ++i) {
        const ImageFormat format = stands_in(i) ? job.stand_in->format : job.formats[i];
        const Bytes& bytes = bytes_of(i);
        if (outweighed(i))
            continue;
        // A stable source's own name, extension as written, for the output in its own format.
        const bool own_name = job.stable && w.name == job.asset->path && own_format == format;
        OutputFile out = writer.write(
            job.asset->path, own_name ? w.name : replace_extension(w.name, file_extension(format)), bytes, *job.state);
        out.format = format;
        out.width = w.shape.width;
        out.height = w.shape.height;
        out.frames = w.shape.frames;
        if (own_width && format == own_format)
            own = {&bytes, record.outputs.size()};
        record.outputs.push_back(std::move(out));
    }
    return own;
}

} // namespace

void ship_image(ImageJob& job, const OutputWriter& writer)
{
    std::pair<const Bytes*, std::size_t> own{nullptr, 0};
    for (const auto& w : job.widths)
        if (const auto shipped = ship_width(job, *w, writer); shipped.first)
            own = shipped;
    // The source's own URL: what shipped in its own format at its own width, or else the
    // source itself (a GIF whose PNG came out smaller, a TIFF, an image whose own format was
    // outweighed).
    AssetRecord& record = job.result->record;
    const bool at_own_url = std::any_of(record.outputs.begin(), record.outputs.end(),
                                        [&](const OutputFile& o) { return o.path == job.asset->path; });
    if (job.original_source && !at_own_url) {
        if (own.first) {
            const OutputFile like = record.outputs[own.second];
            record.outputs.push_back(writer.write_original(job.asset->path, like, *own.first, *job.state));
        } else {
            OutputFile like;
            like.format = image_format_of_extension(extension_of(job.asset->path));
            if (like.format) {
                const auto& w = *job.widths.back(); // the source's own width
                like.width = w.shape.width;
                like.height = w.shape.height;
                like.frames = w.shape.frames;
            }
            // Its metadata stripped where that is safe (not EXIF that turns it or holds fields
            // to keep).
            const SourceExif exif = job.images.keep_metadata.empty() && exif_upright(job.decoded.exif)
                                        ? SourceExif::drop
                                        : SourceExif::refuse;
            std::optional<Bytes> stripped;
            if (like.format == ImageFormat::png)
                stripped = png_without_metadata(*job.original_source, PngProfile::keep, exif);
            else if (like.format == ImageFormat::jpeg)
                stripped = jpeg_without_metadata(*job.original_source, PngProfile::keep, exif);
            record.outputs.push_back(
                writer.write_original(job.asset->path, like, stripped ? *stripped : *job.original_source, *job.state));
        }
    }
    for (auto& out : job.result->record.outputs)
        if (const auto it = job.chosen.find(*out.format); it != job.chosen.end()) {
            out.quality = it->second.quality;
            out.butteraugli = it->second.distance;
        }
}

} // namespace cachet
