#pragma once
// What the image files that call libvips share (internal to the image module): the gate every
// libvips operation runs under, and the conversions between a Raster and a libvips image.
#include "pipeline/image/image.hpp"
#include "pipeline/model/error.hpp"

#include <vips/vips8>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace cachet::libvips {

// A libvips message on one line, without its trailing newline.
std::string tidy(std::string message);

// libvips keeps one error buffer for the whole process, and a VError's text is that buffer
// when it was thrown: at -j 2 it may hold another file's message, or one left behind by an
// operation that recovered. So every libvips operation runs under a shared lock, and one that
// fails (or wants to quote libvips in a warning) runs again alone, under the exclusive lock,
// with the buffer cleared first: its message is then its own, the same at any -j.
extern std::shared_mutex g_vips_gate;
extern thread_local bool t_alone;
struct RunAlone {}; // thrown by an operation that needs the buffer to itself

// Throws Error(asset) "what: <libvips' message>".
[[noreturn]] void rethrow_vips(const vips::VError& e, std::string_view what);

// op() under the gate; op builds its whole result, so that it can run twice. Never nested.
template <class Op>
auto run_vips(std::string_view what, Op&& op) -> decltype(op())
{
    {
        const std::shared_lock shared(g_vips_gate);
        try {
            return op();
        } catch (const vips::VError&) {
        } catch (const RunAlone&) {
        }
    }
    const std::unique_lock alone(g_vips_gate);
    struct Alone {
        Alone()
        {
            vips_error_clear();
            t_alone = true;
        }
        ~Alone()
        {
            t_alone = false;
            vips_error_clear();
        }
        Alone(const Alone&) = delete;
        Alone& operator=(const Alone&) = delete;
    } const scope;
    try {
        return op();
    } catch (const vips::VError& e) {
        rethrow_vips(e, what);
    }
}

// The raster as a libvips image; with Profile::attach its ICC profile rides along.
enum class Profile { attach, omit };
vips::VImage from_raster(const Raster& raster, Profile profile = Profile::omit);

// The image's pixels as a Raster with like's gamut, ICC profile and EXIF.
Raster raster_from(const vips::VImage& image, const Raster& like);

// The blob's bytes (the blob released).
Bytes blob_bytes(VipsBlob* blob);

} // namespace cachet::libvips
