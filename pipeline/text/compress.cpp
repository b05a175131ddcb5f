#include "pipeline/text/compress.hpp"

#include "pipeline/model/error.hpp"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <memory>

namespace cachet {
namespace {

Bytes zstd_compress(ByteView data, int level)
{
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1);
    // Browsers decode Content-Encoding: zstd only with windows up to 8 MiB.
    if (level > 19)
        ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_windowLog, 23);
    Bytes out(ZSTD_compressBound(data.size()));
    const std::size_t n = ZSTD_compress2(ctx.get(), out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n))
        throw Error(ErrorKind::internal, std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

Bytes brotli_compress(ByteView data, int quality)
{
    // The smallest window that holds the whole input (18..24), so small files decode with little memory.
    const int lgwin = std::clamp(static_cast<int>(std::bit_width(std::max<std::size_t>(data.size(), 1) - 1)),
                                 BROTLI_MIN_WINDOW_BITS + 8, BROTLI_MAX_WINDOW_BITS);
    std::size_t size = BrotliEncoderMaxCompressedSize(data.size());
    if (size == 0)
        size = data.size() + 1024;
    Bytes out(size);
    if (!BrotliEncoderCompress(quality, lgwin, BROTLI_MODE_GENERIC, data.size(), data.data(), &size, out.data()))
        throw Error(ErrorKind::internal, "brotli: compression failed");
    out.resize(size);
    return out;
}

Bytes gzip_compress(ByteView data, int level)
{
    std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> c(libdeflate_alloc_compressor(level),
                                                                                    libdeflate_free_compressor);
    if (!c)
        throw Error(ErrorKind::internal, "libdeflate: cannot allocate a compressor");
    Bytes out(libdeflate_gzip_compress_bound(c.get(), data.size()));
    const std::size_t n = libdeflate_gzip_compress(c.get(), data.data(), data.size(), out.data(), out.size());
    if (n == 0)
        throw Error(ErrorKind::internal, "libdeflate: compression failed");
    out.resize(n);
    return out;
}

Bytes zstd_decompress(ByteView data)
{
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    Bytes out;
    std::uint8_t buffer[1 << 16];
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::size_t last = 1;
    while (in.pos < in.size) {
        ZSTD_outBuffer o{buffer, sizeof buffer, 0};
        last = ZSTD_decompressStream(ctx.get(), &o, &in);
        if (ZSTD_isError(last))
            throw Error(ErrorKind::asset, std::string("not a valid zstd stream: ") + ZSTD_getErrorName(last));
        out.insert(out.end(), buffer, buffer + o.pos);
        if (o.pos == 0 && in.pos < in.size && last == 0)
            break;
    }
    if (last != 0)
        throw Error(ErrorKind::asset, "truncated zstd stream");
    return out;
}

Bytes brotli_decompress(ByteView data)
{
    std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> s(
        BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
    Bytes out;
    std::uint8_t buffer[1 << 16];
    std::size_t in_left = data.size();
    const std::uint8_t* in = data.data();
    while (true) {
        std::size_t out_left = sizeof buffer;
        std::uint8_t* o = buffer;
        const auto r = BrotliDecoderDecompressStream(s.get(), &in_left, &in, &out_left, &o, nullptr);
        out.insert(out.end(), buffer, o);
        if (r == BROTLI_DECODER_RESULT_SUCCESS)
            return out;
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
            continue;
        throw Error(ErrorKind::asset, r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT ? "truncated brotli stream"
                                                                                  : "not a valid brotli stream");
    }
}

Bytes gzip_decompress(ByteView data)
{
    if (data.size() < 18)
        throw Error(ErrorKind::asset, "not a valid gzip stream (too short)");
    // ISIZE (the last 4 bytes) is the size modulo 2^32: grow the buffer until it fits.
    std::size_t guess = std::size_t{data[data.size() - 4]} | std::size_t{data[data.size() - 3]} << 8 |
                        std::size_t{data[data.size() - 2]} << 16 | std::size_t{data[data.size() - 1]} << 24;
    std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> d(libdeflate_alloc_decompressor(),
                                                                                        libdeflate_free_decompressor);
    while (true) {
        Bytes out(guess);
        std::size_t n = 0;
        const auto r = libdeflate_gzip_decompress(d.get(), data.data(), data.size(), out.data(), out.size(), &n);
        if (r == LIBDEFLATE_SUCCESS) {
            out.resize(n);
            return out;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
            throw Error(ErrorKind::asset, "not a valid gzip stream");
        guess += std::size_t{1} << 32;
    }
}

} // namespace

Bytes compress(Encoding encoding, ByteView data, const TextSettings& settings)
{
    switch (encoding) {
    case Encoding::zstd: return zstd_compress(data, settings.zstd_level);
    case Encoding::br: return brotli_compress(data, settings.brotli_quality);
    case Encoding::gzip: return gzip_compress(data, settings.gzip_level);
    }
    throw Error(ErrorKind::internal, "unknown encoding");
}

Bytes decompress(Encoding encoding, ByteView data)
{
    switch (encoding) {
    case Encoding::zstd: return zstd_decompress(data);
    case Encoding::br: return brotli_decompress(data);
    case Encoding::gzip: return gzip_decompress(data);
    }
    throw Error(ErrorKind::internal, "unknown encoding");
}

std::string_view sidecar_extension(Encoding encoding)
{
    switch (encoding) {
    case Encoding::zstd: return "zst";
    case Encoding::br: return "br";
    case Encoding::gzip: return "gz";
    }
    return "";
}

std::string zstd_version()
{
    return ZSTD_versionString();
}

std::string brotli_version()
{
    const std::uint32_t v = BrotliEncoderVersion();
    return std::to_string(v >> 24) + "." + std::to_string((v >> 12) & 0xfff) + "." + std::to_string(v & 0xfff);
}

std::string deflate_version()
{
    return "libdeflate " LIBDEFLATE_VERSION_STRING;
}

} // namespace cachet
