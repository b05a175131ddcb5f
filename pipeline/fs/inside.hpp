#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cachet {

// Deleting and writing inside a folder (OUT) without ever following a symbolic link that sits
// inside it: a crafted or stale manifest naming "link/x", where OUT/link points elsewhere, must
// not reach what the link points at. Paths are relative ("a/b/c"), checked by the caller.

// Deletes root/relative (a file, or a link itself: never what a link points at). Each folder
// on the way is opened with O_NOFOLLOW, so a link among them stops the walk. Returns true if
// something was deleted.
bool remove_inside(const std::filesystem::path& root, std::string_view relative);

// Deletes the folder root/relative if it is empty (never through a link). Returns true if it went.
bool remove_empty_folder_inside(const std::filesystem::path& root, std::string_view relative);

// The first folder of root/folder (a relative folder path, "" for root itself) that is a
// symbolic link, as a path relative to root, or nullopt if there is none (parts that do not
// exist yet are not links).
std::optional<std::string> link_on_the_way(const std::filesystem::path& root, std::string_view folder);

} // namespace cachet
