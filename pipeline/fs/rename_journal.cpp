#include "pipeline/fs/rename_journal.hpp"

#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <set>
#include <string_view>
#include <unistd.h>

namespace cachet {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_head = "cachet rename journal 1\n";
constexpr std::string_view k_tail = "end\n";

// Whether path is relative and stays inside its root.
bool inside(std::string_view path)
{
    if (path.empty() || path.front() == '/')
        return false;
    for (std::size_t start = 0; start <= path.size();) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        const std::string_view segment = path.substr(start, slash - start);
        if (segment.empty() || segment == "." || segment == "..")
            return false;
        start = slash + 1;
    }
    return true;
}

// The renames of a journal's text; false unless it is whole. Names hold no control character
// (cachet refuses them), so a tab and a newline separate them.
bool parse(std::string_view text, RenameJournal::Renames& renames)
{
    if (!text.starts_with(k_head) || !text.ends_with(k_tail))
        return false;
    text.remove_prefix(k_head.size());
    text.remove_suffix(k_tail.size());
    while (!text.empty()) {
        const std::size_t tab = text.find('\t');
        const std::size_t end = text.find('\n');
        if (tab == std::string_view::npos || end == std::string_view::npos || tab > end)
            return false;
        std::string from(text.substr(0, tab));
        std::string to(text.substr(tab + 1, end - tab - 1));
        if (!inside(from) || !inside(to))
            return false;
        renames.emplace_back(std::move(from), std::move(to));
        text.remove_prefix(end + 1);
    }
    return true;
}

void sync_folder(const fs::path& folder)
{
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        const int err = errno;
        if (fd >= 0)
            ::close(fd);
        throw io_error(folder.string(), "cannot flush to disk", err);
    }
    ::close(fd);
}

std::size_t make(const fs::path& root, const RenameJournal::Renames& renames, bool sync, bool resuming)
{
    std::size_t made = 0;
    std::set<fs::path> folders;
    for (const auto& [from, to] : renames) {
        const fs::path target = root / to;
        if (std::rename((root / from).c_str(), target.c_str()) == 0) {
            ++made;
        } else if (!(resuming && errno == ENOENT)) { // (resuming: made before the stop)
            throw io_error(target.string(), "cannot rename into place", errno);
        }
        folders.insert(target.parent_path());
    }
    if (sync)
        for (const auto& f : folders)
            sync_folder(f);
    return made;
}

} // namespace

fs::path RenameJournal::file(const fs::path& root)
{
    return root / (std::string(k_temporary_prefix) + "publish");
}

void RenameJournal::commit(const fs::path& root, const Renames& renames, bool sync)
{
    if (renames.empty())
        return;
    std::string text(k_head);
    for (const auto& [from, to] : renames)
        text += from + "\t" + to + "\n";
    text += k_tail;
    write_file_atomic(file(root), as_bytes(text), sync ? Durability::flushed : Durability::cache);
    if (sync)
        sync_folder(root); // the journal's name is durable before the first rename
    make(root, renames, sync, false);
    ::unlink(file(root).c_str());
}

std::size_t RenameJournal::finish(const fs::path& root)
{
    Bytes text;
    try {
        text = read_file(file(root));
    } catch (const Error&) {
        return 0; // none
    }
    Renames renames;
    std::size_t made = 0;
    if (parse(as_text(text), renames))
        made = make(root, renames, true, true);
    ::unlink(file(root).c_str());
    return made;
}

bool RenameJournal::pending(const fs::path& root)
{
    std::error_code ec;
    return fs::exists(file(root), ec);
}

} // namespace cachet
