#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace cachet::cli {

// What cachet's stderr is: whether it is a terminal, how wide, whether to colour. Set once by
// main() from --color (auto, always, never) and NO_COLOR (https://no-color.org: any value
// turns colour off, unless --color=always).
namespace terminal {

enum class Tone { error, warning, good, dim };

void configure(std::string_view color); // throws Error(usage) on another word
bool interactive();                     // stderr is a terminal
bool color();
// The width of the terminal now (it may be resized during a build), or 0 if stderr is not one.
int columns();
// text in tone's colour, or text as is when colour is off.
std::string paint(std::string_view text, Tone tone);

// text cut to at most width bytes, keeping its end: "...ges/hero.jpg".
std::string keep_end(const std::string& text, std::size_t width);

// text with each line longer than columns - 1 broken at spaces, its continuation indented;
// as is when columns is 0 (not a terminal).
std::string wrapped(const std::string& text, int columns);

} // namespace terminal
} // namespace cachet::cli
