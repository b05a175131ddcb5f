#include "pipeline/image/png_near.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

namespace cachet {

namespace {

enum Filter : std::uint8_t { sub = 1, up = 2, average = 3, paeth = 4 };

int predict(Filter filter, int a, int b, int c)
{
    switch (filter) {
    case sub: return a;
    case up: return b;
    case average: return (a + b) / 2;
    case paeth: break;
    }
    const int p = a + b - c;
    const int pa = std::abs(p - a);
    const int pb = std::abs(p - b);
    const int pc = std::abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// log2(x) for x >= 1 in 1/65536ths, in integers only: the bits of the fraction come from
// squaring the mantissa (in [1, 2), 30 fractional bits) and halving it when it reaches 2.
std::uint64_t log2_fixed(std::uint64_t x)
{
    const int whole = 63 - std::countl_zero(x);
    std::uint64_t result = static_cast<std::uint64_t>(whole) << 16;
    std::uint64_t y = whole > 30 ? x >> (whole - 30) : x << (30 - whole); // [2^30, 2^31)
    for (int bit = 15; bit >= 0; --bit) {
        y = (y * y) >> 30;
        if (y >= (std::uint64_t{2} << 30)) {
            y >>= 1;
            result |= std::uint64_t{1} << bit;
        }
    }
    return result;
}

} // namespace

Bytes near_lossless_rows(ByteView pixels, int width, int height, int channels, int colour_channels, int near,
                         RowFilter choice)
{
    const std::size_t stride = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
    const auto rows = static_cast<std::size_t>(height);
    Bytes filtered((stride + 1) * rows);
    // Each residual -255..255 rounded to the nearest multiple of 2 * near + 1.
    const int step = 2 * near + 1;
    std::array<int, 511> rounded{}; // index: the residual + 255
    for (std::size_t i = 0; i < rounded.size(); ++i) {
        const int d = static_cast<int>(i) - 255;
        rounded[i] = (d < 0 ? -1 : 1) * ((std::abs(d) + near) / step) * step;
    }

    // For least_entropy: count * log2(count) for every count a row can have, in 1/65536ths. A
    // row's entropy (in bits) is stride * log2(stride) - sum over its byte values of that, so
    // the least entropy is the largest sum.
    std::vector<std::uint64_t> count_log;
    if (choice == RowFilter::least_entropy) {
        count_log.resize(stride + 1, 0);
        for (std::size_t k = 2; k <= stride; ++k)
            count_log[k] = k * log2_fixed(k);
    }
    std::array<std::uint32_t, 256> histogram{};

    std::vector<std::uint8_t> above(stride, 0); // the row above as rebuilt (zeros above the first)
    constexpr std::array<Filter, 4> k_filters{sub, up, average, paeth};
    std::array<std::vector<std::uint8_t>, 4> rebuilt;
    std::array<std::vector<std::uint8_t>, 4> residuals;
    for (std::size_t f = 0; f < k_filters.size(); ++f) {
        rebuilt[f].resize(stride);
        residuals[f].resize(stride);
    }
    for (std::size_t y = 0; y < rows; ++y) {
        const std::uint8_t* source = pixels.data() + y * stride;
        std::size_t best = 0;
        std::uint64_t best_cost = std::numeric_limits<std::uint64_t>::max();
        for (std::size_t f = 0; f < k_filters.size(); ++f) {
            std::uint8_t* r = rebuilt[f].data();
            std::uint8_t* e = residuals[f].data();
            std::uint64_t cost = 0;
            for (std::size_t i = 0, channel = 0; i < stride; ++i) {
                const int a = i >= static_cast<std::size_t>(channels) ? r[i - channels] : 0;
                const int c = i >= static_cast<std::size_t>(channels) ? above[i - channels] : 0;
                const int p = predict(k_filters[f], a, above[i], c);
                const int d = source[i] - p;
                int q = d;
                if (static_cast<int>(channel) < colour_channels) {
                    q = rounded[static_cast<std::size_t>(d) + 255]; // (d + 255, modulo 2^64)
                    if (p + q < 0 || p + q > 255)
                        q = d;
                }
                r[i] = static_cast<std::uint8_t>(p + q);
                e[i] = static_cast<std::uint8_t>(q & 0xff);
                cost += static_cast<std::uint64_t>(std::abs(static_cast<int>(static_cast<std::int8_t>(e[i]))));
                if (++channel == static_cast<std::size_t>(channels))
                    channel = 0;
            }
            if (choice == RowFilter::least_entropy) {
                histogram.fill(0);
                for (std::size_t i = 0; i < stride; ++i)
                    ++histogram[e[i]];
                std::uint64_t order = 0;
                for (const std::uint32_t k : histogram)
                    order += count_log[k];
                cost = std::numeric_limits<std::uint64_t>::max() - order; // (order < stride * 2^33)
            }
            if (cost < best_cost) {
                best_cost = cost;
                best = f;
            }
        }
        std::uint8_t* row = filtered.data() + y * (stride + 1);
        row[0] = k_filters[best];
        std::copy(residuals[best].begin(), residuals[best].end(), row + 1);
        above.swap(rebuilt[best]);
    }
    return filtered;
}

} // namespace cachet
