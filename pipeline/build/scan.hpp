#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/asset.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

struct ScanResult {
    std::vector<Asset> assets;         // sorted byte-wise by path
    std::vector<std::string> warnings; // skipped entries (links leaving the tree, devices...)
    bool same_paths = false;           // rescan(): the same sources as before, only their stats looked at again
};

// True if inner is outer or lies below it, comparing path elements (both made absolute and
// canonical by the caller).
bool is_within(const std::filesystem::path& outer, const std::filesystem::path& inner);

// True if text is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// The kind of the file at relative path, from its extension and the preset.
AssetKind classify(std::string_view path, const Preset& preset);

// Walks root recursively. Regular files are assets unless the preset ignores them; a symbolic
// link to a file is followed only if it resolves inside root; linked folders, devices, FIFOs
// and sockets are skipped with a warning. Folders whose path relative to root is in skip (such
// as a build cache kept inside SRC) are not entered. Throws Error(io) if root cannot be read.
ScanResult scan_tree(const std::filesystem::path& root, const Preset& preset,
                     const std::vector<std::string>& skip = {});

// scan_tree()'s result for root, given the result before and what changed since: source paths
// and folders ("a/b/", everything below them). Only those are looked at again.
ScanResult rescan(ScanResult before, const std::filesystem::path& root, const Preset& preset,
                  const std::vector<std::string>& skip, const std::vector<std::string>& changed);

} // namespace cachet
