#pragma once
#include <string>
#include <string_view>

namespace cachet {

// path with its extension replaced by new_extension (no dot): "img/a.png" -> "img/a.avif".
std::string replace_extension(std::string_view path, std::string_view new_extension);

// text inserted before path's extension (source maps' double extension counts as one):
// "img/hero.jpg" + "-640w" -> "img/hero-640w.jpg"; no extension: appended.
std::string insert_before_extension(std::string_view path, std::string_view text);

// path named by its content: "js/app.js" + "3f9a1c2b7d" -> "js/app.3f9a1c2b7d.js";
// a name with no extension gets the hash at the end ("LICENSE.3f9a1c2b7d").
std::string fingerprinted_path(std::string_view path, std::string_view hash);

// What the path of every source that can name the output at output_path starts with: its
// folder and its file name up to the first '.' or '-' ("img/hero-640w.3f9a1c2b7d.avif" ->
// "img/hero"). Holds because every output lies in its source's folder and its name is the
// source's name with text inserted before, or in place of, the extension.
std::string_view owner_prefix(std::string_view output_path);

} // namespace cachet
