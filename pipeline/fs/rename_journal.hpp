#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cachet {

// A set of renames inside one folder that a crash cannot leave half made, as a database's redo
// log: the journal file lists them all before the first is made, and is deleted after the
// last. Whoever next finds the journal (the next holder of the folder's lock) makes the rest,
// so the files end up all old (no journal was written) or all new (it was). cachet publishes
// a build this way: the staged stable-named outputs and the manifest go into place together.
class RenameJournal {
public:
    using Renames = std::vector<std::pair<std::string, std::string>>; // (from, to), relative to root

    // The journal's file in root.
    static std::filesystem::path file(const std::filesystem::path& root);

    // Writes the journal (flushed, with its folder, when sync), makes every rename, flushes the
    // folders they touched (sync), deletes the journal. Throws Error(io): a journal left behind
    // is finished by finish().
    static void commit(const std::filesystem::path& root, const Renames& renames, bool sync);

    // Makes the renames of a journal a stopped commit() left in root, then deletes it. A journal
    // that cannot be read whole (never flushed before a crash: none of its renames was made
    // durable either) is deleted. Returns how many renames were made; throws Error(io).
    static std::size_t finish(const std::filesystem::path& root);

    // Whether root holds a journal not yet finished.
    static bool pending(const std::filesystem::path& root);
};

} // namespace cachet
