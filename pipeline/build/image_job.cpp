#include "pipeline/build/image_job.hpp"

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
    // Never heavier than the source: a PNG's own bytes may stand in for its PNG fallback. Not
    // with EXIF (the orientation may come from it), nor with a profile converted away.
    if (job->fallback == ImageFormat::png && !animation && decoded.exif.empty() &&
        image_format_of_extension(extension_of(asset.path)) == ImageFormat::png)
        job->source_png =
            png_without_metadata(source, images.colour == Colour::keep ? PngProfile::keep : PngProfile::refuse);
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

void ship_width(const ImageJob& job, const ImageJob::Width& w, const OutputWriter& writer)
{
    // At the source's own width, the source's own bytes stand in for a fallback encode that
    // came out bigger.
    const bool own_width = w.width == job.decoded.raster.width;
    auto bytes_of = [&](std::size_t i) -> const Bytes& {
        if (own_width && job.source_png && job.formats[i] == job.fallback &&
            job.source_png->size() < w.encoded[i]->size())
            return *job.source_png;
        return *w.encoded[i];
    };
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
    AssetRecord& record = job.result->record;
    for (std::size_t i = 0; i < job.formats.size(); ++i) {
        const ImageFormat format = job.formats[i];
        const Bytes& bytes = bytes_of(i);
        if (outweighed(i))
            continue;
        // A stable source's own name, extension as written, for the output in its own format.
        const bool own_name =
            job.stable && w.name == job.asset->path && image_format_of_extension(extension_of(w.name)) == format;
        OutputFile out = writer.write(
            job.asset->path, own_name ? w.name : replace_extension(w.name, file_extension(format)), bytes, *job.state);
        out.format = format;
        out.width = w.shape.width;
        out.height = w.shape.height;
        out.frames = w.shape.frames;
        record.outputs.push_back(std::move(out));
    }
}

} // namespace

void ship_image(ImageJob& job, const OutputWriter& writer)
{
    for (const auto& w : job.widths)
        ship_width(job, *w, writer);
    for (auto& out : job.result->record.outputs)
        if (const auto it = job.chosen.find(*out.format); it != job.chosen.end()) {
            out.quality = it->second.quality;
            out.butteraugli = it->second.distance;
        }
}

} // namespace cachet
