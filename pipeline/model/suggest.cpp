#include "pipeline/model/suggest.hpp"

#include <algorithm>
#include <cstddef>

namespace cachet {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters, each 1.
std::size_t distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

} // namespace

std::string closest_to(std::string_view word, const std::vector<std::string>& candidates)
{
    if (word.size() > 200) // nobody mistypes a page of text; and the table is quadratic
        return {};
    const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        if (c == word || c.size() > 200)
            continue;
        if (const std::size_t d = distance(word, c); d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates)
{
    const std::string best = closest_to(word, candidates);
    return best.empty() ? std::string() : "; did you mean " + best + "?";
}

} // namespace cachet
