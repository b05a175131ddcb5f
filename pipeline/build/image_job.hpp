#pragma once
#include "pipeline/build/asset_state.hpp"
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/image/image_stack.hpp"

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// The widths an image of source_width is built at: every configured width below it, then its own.
std::vector<int> output_widths(const std::vector<int>& widths, int source_width);

// The memory of the work on an image with header, estimated from what each step was measured
// to take a pixel (bench/memory.sh). Its decoded pixels (`kept`) stay from its decode to its
// end; each encode takes encode_memory() while it runs. `room` is its largest encode: the image
// holds kept + room from its decode on, so that it can always go on one step at a time, and its
// other steps run beside that as the budget allows. `alone`, the most it takes one step at a
// time (its decode, or kept + room), must fit the budget.
struct ImageMemory {
    std::uint64_t alone = 0;
    std::uint64_t kept = 0;
    std::uint64_t room = 0;
};

// One image in flight: its decode, then per width a resize and an encode per format, each a
// task any worker may run; the last ships what is not bigger.
struct ImageJob {
    struct Shape {
        int width;
        int height;
        int frames;
    };
    struct Width {
        int width = 0;
        std::string name;                          // the output name before its extension is set
        Shape shape{};                             // the outputs' size, known once resized
        Raster raster;                             // this width of a still (empty at the source's own width)
        Animation animation;                       // ... or of an animation
        std::vector<std::optional<Bytes>> encoded; // per format in ImageJob::formats
        std::vector<int> quality;                  // per format: the quality the rate control chose, or 0
        std::vector<ImageFormat> skip;             // formats that cannot hold this width
        std::atomic<int> pending{0};               // encodes of this width not yet done
    };

    const Asset* asset = nullptr;
    AssetResult* result = nullptr;
    AssetState* state = nullptr;
    ImageSettings images;
    DecodedImage decoded;
    std::vector<ImageFormat> formats; // the modern formats, then the fallback if any
    std::optional<ImageFormat> fallback;
    std::map<ImageFormat, QualityChoice> chosen; // quality = "auto" results, and a lossy palette PNG's
    int avif_raise = 0;                          // images.avif.max_distance: AVIF quality raised by this
    // Outputs the trials encoded at the reference size (the AVIF floor's, the near-lossless
    // PNG's): the output of that size and settings ships them instead of encoding them again.
    std::vector<TrialOutput> trials;
    std::uint64_t memory_budget = 0; // the build's (over_budget())
    std::vector<std::unique_ptr<Width>> widths;
    // The source keeps its name (output.stable): its own width is named as the source, and the
    // output in the source's own format keeps the source's extension as written.
    bool stable = false;
    // The source's own bytes (a PNG or JPEG without its metadata, a GIF as it is), when they
    // could stand in for the fallback at the source's width: it never ships heavier than the
    // source. Its format may differ from the fallback's (a GIF for a PNG).
    struct StandIn {
        ImageFormat format;
        Bytes bytes;
    };
    std::optional<StandIn> stand_in;
    // The source's bytes: decoded by decode_image_job(), and kept after that when the source
    // gets an output at its own URL (keep_source: AssetBuilder::wants_original(), or a stable
    // name), for when no output in its own format at its own width ships.
    Bytes source;
    bool keep_source = false;
    ImageHeader header; // what its header says
    ImageMemory memory; // its estimated memory (image_memory())

    // Frees the pixels (the job is over).
    void release()
    {
        decoded = DecodedImage{};
        widths.clear();
        stand_in.reset();
        trials.clear();
        source = Bytes{};
    }
};

// Encodes over_budget() leaves out are not counted.
ImageMemory image_memory(const ImageHeader& header, const std::vector<int>& widths,
                         const std::vector<ImageFormat>& formats, std::uint64_t memory_budget);

// What resizing the image to width takes (its pixels at that width; none at its own width),
// and what encoding that width in format takes: the encoder's working set, with the width's
// pixels.
std::uint64_t resize_memory(const ImageHeader& header, int width);
std::uint64_t encode_memory(const ImageHeader& header, int width, ImageFormat format);

// Whether the output of format at width is left out for memory: JPEG XL (libjxl 0.7 takes
// about 130 bytes a pixel while it encodes) at a width whose encode would not fit
// memory_budget even alone. That output is skipped with a warning; every other format counts
// in image_memory() and the image fails if it cannot fit.
bool over_budget(const ImageHeader& header, int width, ImageFormat format, std::uint64_t memory_budget);

// The largest side an output in format may have (WebP: 16383), or 0 for no limit below 65535.
int max_side(ImageFormat format);

// Starts the image asset from its source bytes: reads its header (not its pixels), and
// estimates the memory its work takes. Throws Error(asset) if the image is over the preset's
// limits, or if its work cannot fit memory_budget even one step at a time (so that whether an
// image fails does not depend on -j).
std::shared_ptr<ImageJob> start_image_job(const Preset& preset, const Asset& asset, Bytes source, AssetResult& result,
                                          AssetState& state, std::uint64_t memory_budget);

// Decodes the image and plans its widths and formats (running quality = "auto" searches; a
// width a format cannot hold is left out of it, with a warning); fills in the record's
// placeholder and warnings. Throws Error for a failing asset.
void decode_image_job(ImageJob& job);

// Resizes one width of job (a task, run before that width's encodes).
void resize_width(ImageJob& job, std::size_t width_index);

// Encodes one width of job in one format (a task, after resize_width(); thread-safe for
// distinct formats). Frees the width's pixels after its last encode.
void encode_width(ImageJob& job, std::size_t width_index, std::size_t format_index);

// After every encode of job: writes, per width, the encodes that are not bigger (a modern
// format must be smaller than the fallback, and AVIF smaller than WebP, at the same width),
// and notes the qualities chosen. Throws Error for a failing asset.
void ship_image(ImageJob& job, const OutputWriter& writer);

} // namespace cachet
