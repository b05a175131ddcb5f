#include "pipeline/build/image_job.hpp"

#include "pipeline/image/jpeg_segments.hpp"
#include "pipeline/image/png_chunks.hpp"
#include "pipeline/image/rate.hpp"
#include "pipeline/model/content_type.hpp"
#include "pipeline/text/fingerprint.hpp"

#include <algorithm>
#include <cstdio>

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

namespace {

// What each stage was measured to take, in bytes a pixel (bench/memory.sh: peak RSS of one
// image, one format at a time, less the process's own): the decode (libvips' buffer and the
// copies out of it), the decoded pixels kept, and each encoder's working set at a width.
constexpr std::uint64_t k_decode_per_pixel = 10;
constexpr std::uint64_t k_kept_per_pixel = 4;

// A near-lossless PNG ships only if its trial saves at least this share of the lossless one's
// bytes: a loss for a few bytes is not worth it (a 128 px logo saved 1% at distance 0.49).
constexpr double k_near_lossless_saving = 0.1;

std::uint64_t encode_per_pixel(ImageFormat format)
{
    switch (format) {
    case ImageFormat::avif: return 34; // libaom's frame buffers and coefficients
    case ImageFormat::webp: return 16;
    case ImageFormat::png: return 8;
    case ImageFormat::jpeg: return 9; // jpegli keeps the whole image's coefficients
    case ImageFormat::gif: return 6;
    case ImageFormat::jxl: return 130; // libjxl 0.7: a 4000x3000 photo took 1.5 GiB
    }
    return 34;
}

std::string human_size(std::uint64_t bytes)
{
    char text[32];
    const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    if (mib >= 1024.0)
        std::snprintf(text, sizeof text, "%.2f GiB", mib / 1024.0);
    else
        std::snprintf(text, sizeof text, "%.1f MiB", mib);
    return text;
}

// The pixels of the image at width w (a frame's).
std::uint64_t width_pixels(const ImageHeader& header, int w)
{
    const std::uint64_t own = static_cast<std::uint64_t>(header.width) * static_cast<std::uint64_t>(header.height);
    return own * static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(w) /
           (static_cast<std::uint64_t>(header.width) * static_cast<std::uint64_t>(header.width));
}

std::uint64_t kept_memory(const ImageHeader& header)
{
    return k_kept_per_pixel * static_cast<std::uint64_t>(header.width) * static_cast<std::uint64_t>(header.height) *
           static_cast<std::uint64_t>(header.frames);
}

} // namespace

std::uint64_t resize_memory(const ImageHeader& header, int width)
{
    return width == header.width
               ? 0
               : k_kept_per_pixel * width_pixels(header, width) * static_cast<std::uint64_t>(header.frames);
}

std::uint64_t encode_memory(const ImageHeader& header, int width, ImageFormat format)
{
    const auto frames = static_cast<std::uint64_t>(header.frames);
    // An animation's encoders hold a few frames at a time, and the GIF quantizer all of them.
    const std::uint64_t held_frames = format == ImageFormat::gif ? frames : std::min<std::uint64_t>(frames, 4);
    return resize_memory(header, width) + encode_per_pixel(format) * width_pixels(header, width) * held_frames;
}

bool over_budget(const ImageHeader& header, int width, ImageFormat format, std::uint64_t memory_budget)
{
    return format == ImageFormat::jxl && kept_memory(header) + encode_memory(header, width, format) > memory_budget;
}

ImageMemory image_memory(const ImageHeader& header, const std::vector<int>& widths,
                         const std::vector<ImageFormat>& formats, std::uint64_t memory_budget)
{
    ImageMemory memory;
    memory.kept = kept_memory(header);
    for (const int w : widths)
        for (const ImageFormat f : formats)
            if (!over_budget(header, w, f, memory_budget))
                memory.room = std::max(memory.room, encode_memory(header, w, f));
    const std::uint64_t decode = k_decode_per_pixel * static_cast<std::uint64_t>(header.width) *
                                 static_cast<std::uint64_t>(header.height) * static_cast<std::uint64_t>(header.frames);
    memory.alone = std::max(decode, memory.kept + memory.room);
    return memory;
}

int max_side(ImageFormat format)
{
    return format == ImageFormat::webp ? 16383 : 0;
}

std::shared_ptr<ImageJob> start_image_job(const Preset& preset, const Asset& asset, Bytes source, AssetResult& result,
                                          AssetState& state, std::uint64_t memory_budget)
{
    const ImageStack& stack = image_stack();
    auto job = std::make_shared<ImageJob>();
    job->asset = &asset;
    job->result = &result;
    job->state = &state;
    job->images = image_settings_for(preset, asset.path);
    const ImageSettings& images = job->images;
    job->header = stack.probe_image(source, images.animate);
    const ImageHeader& h = job->header;
    // The limits, from the header, before any pixel is decoded.
    const std::uint64_t still = static_cast<std::uint64_t>(h.width) * static_cast<std::uint64_t>(h.height);
    if (still > images.max_pixels)
        throw Error(ErrorKind::asset, "image is " + std::to_string(h.width) + "x" + std::to_string(h.height) + " = " +
                                          std::to_string(still) + " pixels, over the limit of " +
                                          std::to_string(images.max_pixels) + " (images.max_pixels)");
    std::vector<ImageFormat> formats = images.formats;
    if (images.fallback)
        formats.push_back(ImageFormat::jpeg); // (whichever fallback: the modern formats weigh more)
    const ImageMemory memory = image_memory(h, output_widths(images.widths, h.width), formats, memory_budget);
    job->memory_budget = memory_budget;
    job->memory = memory;
    if (memory.alone > memory_budget)
        throw Error(ErrorKind::asset, "needs about " + human_size(memory.alone) + " of memory (" +
                                          std::to_string(h.width) + "x" + std::to_string(h.height) +
                                          (h.frames > 1 ? ", " + std::to_string(h.frames) + " frames" : "") +
                                          "), over the build's memory budget of " + human_size(memory_budget) +
                                          "; raise it with --memory or [build] memory, or make the image smaller");
    job->source = std::move(source);
    return job;
}

void decode_image_job(ImageJob& job_ref)
{
    const ImageStack& stack = image_stack();
    ImageJob* job = &job_ref;
    const Asset& asset = *job->asset;
    AssetResult& result = *job->result;
    const ByteView source = job->source;
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
    // images.avif.max_distance: the floor of the rate control, from trials at the reference size.
    if (images.avif.max_distance > 0 && !animation && !job->chosen.contains(ImageFormat::avif) &&
        std::find(images.formats.begin(), images.formats.end(), ImageFormat::avif) != images.formats.end()) {
        QualityChoice floor = stack.avif_floor(raster, images, 1);
        job->avif_raise = floor.quality;
        if (floor.output)
            job->trials.push_back(std::move(*floor.output));
        // JPEG XL at the AVIF's distance at the reference size (it ships only where smaller).
        if (std::find(images.formats.begin(), images.formats.end(), ImageFormat::jxl) != images.formats.end())
            job->images.jxl.distance = stack.jxl_at_distance(raster, images, floor.distance).setting;
    }

    job->formats = images.formats;
    if (animation && animation->loop != 0 && std::erase(job->formats, ImageFormat::avif) != 0)
        result.warnings.push_back("no AVIF: the animation plays " + std::to_string(animation->loop) +
                                  " time(s), and libavif 0.11 cannot record a loop count (an AVIF sequence "
                                  "would loop forever)");
    if (animation && std::erase(job->formats, ImageFormat::jxl) != 0)
        result.warnings.push_back("no JPEG XL: cachet writes still JPEG XL images only");
    if (images.fallback) {
        job->fallback = animation                                                       ? ImageFormat::gif
                        : decoded.family == SourceFamily::graphic || raster.has_alpha() ? ImageFormat::png
                                                                                        : ImageFormat::jpeg;
        job->formats.push_back(*job->fallback);
    }
    // images.png.lossy_distance: the PNG fallback is a quantized palette if that stays as close
    // to the source at the reference width (one trial per image, used at every width).
    // Else images.png.near_lossless: the near-lossless PNG at the largest error up to it that
    // stays as close (errors tried from 1 up: a larger error is never closer), if it saves at
    // least k_near_lossless_saving of the lossless PNG's bytes.
    if (job->fallback == ImageFormat::png && images.png.lossy_distance > 0) {
        if (const auto distance = stack.palette_distance(raster, images);
            distance && *distance <= images.png.lossy_distance) {
            images.png.quantize = true;
            job->chosen[ImageFormat::png] = QualityChoice{0, *distance, std::nullopt};
        }
        if (!images.png.quantize)
            if (auto best = stack.near_lossless_choice(raster, images);
                best && best->size_ratio <= 1 - k_near_lossless_saving) {
                images.png.near = best->near;
                job->chosen[ImageFormat::png] = QualityChoice{0, best->distance, std::nullopt};
                job->trials.push_back(std::move(best->output));
            }
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
    job->stable = asset.stable;
    for (const int width : output_widths(images.widths, raster.width)) {
        auto w = std::make_unique<ImageJob::Width>();
        w->width = width;
        const bool suffix = name_widths && !(job->stable && width == raster.width);
        w->name = suffix ? insert_before_extension(asset.path, "-" + std::to_string(width) + "w") : asset.path;
        w->encoded.resize(job->formats.size());
        w->quality.resize(job->formats.size());
        w->pending = static_cast<int>(job->formats.size());
        job->widths.push_back(std::move(w));
    }
    // A width a format cannot hold is left out of that format, before any encode.
    for (const ImageFormat format : job->formats)
        if (const int side = max_side(format); side > 0)
            for (const auto& w : job->widths) {
                const std::int64_t height = static_cast<std::int64_t>(raster.height) * w->width / raster.width;
                if (w->width > side || height > side) {
                    w->skip.push_back(format);
                    result.warnings.push_back("no " + std::string(to_string(format)) + " at " +
                                              std::to_string(w->width) + " px: " + std::string(to_string(format)) +
                                              " holds at most " + std::to_string(side) + " px a side");
                }
            }
    for (const ImageFormat format : job->formats)
        for (const auto& w : job->widths)
            if (over_budget(job->header, w->width, format, job->memory_budget)) {
                w->skip.push_back(format);
                result.warnings.push_back(
                    "no " + std::string(to_string(format)) + " at " + std::to_string(w->width) +
                    " px: its encoder would need about " +
                    human_size(kept_memory(job->header) + encode_memory(job->header, w->width, format)) +
                    ", over the build's memory budget of " + human_size(job->memory_budget) +
                    " (--memory or [build] memory)");
            }
    if (!job->keep_source)
        job->source = Bytes{}; // (a stand-in has its own copy)
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
    // The rate control: the settings for this output's size (image/rate.hpp).
    const ImageSettings sized = settings_for_size(
        job.images, static_cast<std::uint64_t>(w.shape.width) * static_cast<std::uint64_t>(w.shape.height),
        job.avif_raise);
    const EncodeOptions options{sized, 1};
    if (format == ImageFormat::avif && sized.avif.quality != job.images.avif.quality)
        w.quality[format_index] = sized.avif.quality;
    else if (format == ImageFormat::webp && sized.webp.quality != job.images.webp.quality)
        w.quality[format_index] = sized.webp.quality;
    const auto trial =
        animation ? job.trials.end() : std::find_if(job.trials.begin(), job.trials.end(), [&](const TrialOutput& t) {
            return same_output(t, format, w.shape.width, w.shape.height, sized);
        });
    if (std::find(w.skip.begin(), w.skip.end(), format) != w.skip.end())
        w.encoded[format_index].reset(); // (told in a warning when planned)
    else if (trial != job.trials.end())
        w.encoded[format_index] = std::move(trial->bytes); // a trial's output, the same bytes (once)
    else
        w.encoded[format_index] =
            animation ? stack.encoder_for(format).encode_animation(own ? *animation : w.animation, options)
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
        if (!w.encoded[i])
            continue; // a format that cannot hold this width
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
        // What quality = "auto" chose, or the lossy palette's distance (a PNG has no quality).
        if (const auto it = job.chosen.find(format); it != job.chosen.end() && !stands_in(i)) {
            if (format != ImageFormat::png)
                out.quality = it->second.quality;
            out.butteraugli = it->second.distance;
        }
        if (w.quality[i] != 0 && !stands_in(i))
            out.quality = w.quality[i]; // the rate control's, at this output's size
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
    if (job.keep_source && !at_own_url) {
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
                stripped = png_without_metadata(job.source, PngProfile::keep, exif);
            else if (like.format == ImageFormat::jpeg)
                stripped = jpeg_without_metadata(job.source, PngProfile::keep, exif);
            record.outputs.push_back(
                writer.write_original(job.asset->path, like, stripped ? *stripped : job.source, *job.state));
        }
    }
}

} // namespace cachet
