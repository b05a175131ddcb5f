#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// What a site's scripts may do with a URL cachet cannot see: build it ("search/" + "worker.js"),
// slice it (src.slice(0, -9) + "plus.png"), compare it. A file whose name a script spells is
// left at its name where scripts read it (rewrite.hpp), and kept at its own URL.

// Whether a file named like path (by extension) holds script: JavaScript, or HTML with
// <script> elements and event handler attributes.
bool may_hold_scripts(std::string_view path);

// The names the scripts in text, the file at path, spell: each run of URL characters that ends
// in '.' and a web file extension (png, json, js, woff2...), as written but without backslashes
// (a regular expression's "plus\.png") and leading "./", "../" or "/". A bare extension (".png"
// alone) means a script may name any file of that kind. Sorted, without repeats.
std::vector<std::string> names_in_scripts(std::string_view path, std::string_view text);

// Whether one of names (names_in_scripts(), merged and sorted) ends path: the file at path may
// be named by a script.
bool named_in_scripts(const std::vector<std::string>& names, std::string_view path);

} // namespace cachet
