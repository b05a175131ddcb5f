// bench/distance.cpp - cachet-distance: Butteraugli 3-norm distance of encoded images to their
// source, the same way for every tool (used by bench/peer-sharp.sh for cachet and sharp).
//
//   cachet-distance JOBS < pairs      (each line: SOURCE<TAB>OUTPUT; prints OUTPUT<TAB>DISTANCE)
//
// Both sides are decoded by libvips (first frame, EXIF orientation applied, converted to 8-bit
// sRGB, alpha flattened onto white as a white page shows it); the source is resized to the
// output's exact size with Lanczos3; libjxl's Butteraugli compares them. A bench tool, not
// part of the pipeline, so it calls libvips directly.
#include "pipeline/image/quality.hpp"

#include <vips/vips8>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using vips::VImage;

VImage displayed(const std::string& path)
{
    VImage image = VImage::new_from_file(path.c_str(), VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR)).autorot();
    if (image.get_typeof(VIPS_META_ICC_NAME) != 0)
        image = image.icc_transform("srgb", VImage::option()->set("embedded", true)->set("depth", 8));
    image = image.colourspace(VIPS_INTERPRETATION_sRGB);
    if (image.has_alpha())
        image = image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
    image = image.cast(VIPS_FORMAT_UCHAR);
    if (image.bands() > 3)
        image = image.extract_band(0, VImage::option()->set("n", 3));
    return image;
}

cachet::Raster raster_of(const VImage& image)
{
    std::size_t size = 0;
    void* memory = image.write_to_memory(&size);
    cachet::Raster r;
    r.width = image.width();
    r.height = image.height();
    r.bands = image.bands();
    r.pixels.assign(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
    g_free(memory);
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    if (VIPS_INIT(argv[0]) != 0)
        return 70;
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    // libvips' GLib warnings ("ignoring nclx profile") are noise here; failures still throw.
    g_log_set_handler(
        "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
        [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
    const unsigned jobs = argc > 1 ? static_cast<unsigned>(std::max(1, std::atoi(argv[1]))) : 1;
    std::map<std::string, std::vector<std::string>> by_source;
    std::string line;
    while (std::getline(std::cin, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos)
            by_source[line.substr(0, tab)].push_back(line.substr(tab + 1));
    }
    std::vector<const std::pair<const std::string, std::vector<std::string>>*> work;
    for (const auto& entry : by_source)
        work.push_back(&entry);
    std::atomic<std::size_t> next{0};
    std::mutex out_mutex;
    auto worker = [&] {
        for (std::size_t i = next++; i < work.size(); i = next++) {
            const auto& [source, outputs] = *work[i];
            try {
                const VImage reference = displayed(source);
                for (const std::string& output : outputs) {
                    const VImage decoded = displayed(output);
                    const VImage scaled =
                        decoded.width() == reference.width() && decoded.height() == reference.height()
                            ? reference
                            : reference.resize(
                                  double(decoded.width()) / reference.width(),
                                  VImage::option()->set("vscale", double(decoded.height()) / reference.height()));
                    const double d = cachet::butteraugli_distance(raster_of(scaled), raster_of(decoded));
                    std::lock_guard lock(out_mutex);
                    std::printf("%s\t%.4f\n", output.c_str(), d);
                }
            } catch (const std::exception& e) {
                vips_error_clear();
                std::lock_guard lock(out_mutex);
                std::fprintf(stderr, "cachet-distance: %s: %s\n", source.c_str(), e.what());
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < jobs; ++i)
        pool.emplace_back(worker);
    worker();
    for (auto& t : pool)
        t.join();
    return 0;
}
