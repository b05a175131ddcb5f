#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// The candidate closest to word, for a "did you mean ...?" (as cargo and git do): by edit
// distance (an adjacent swap counts one), if within about a third of word's length (at least 1,
// at most 3); else "". Ties go to the first candidate.
std::string closest_to(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean X?" for closest_to(word, candidates), or "" if none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

} // namespace cachet
