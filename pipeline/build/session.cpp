#include "pipeline/build/session.hpp"

#include "pipeline/build/asset_builder.hpp"

#include "pipeline/fs/rename_journal.hpp"
#include "pipeline/model/error.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

namespace cachet {

namespace fs = std::filesystem;

fs::path manifest_path(const Config& config)
{
    const fs::path name(config.preset.output.manifest);
    if (name.empty() || name.is_absolute() ||
        std::any_of(name.begin(), name.end(), [](const fs::path& part) { return part == ".."; }))
        throw Error(ErrorKind::config, "output.manifest must be a relative path inside OUT, not \"" +
                                           config.preset.output.manifest + "\"");
    return config.output / name;
}

std::vector<std::string> folders_to_skip(const Config& config)
{
    if (config.cache_dir.empty())
        return {};
    std::error_code ec;
    const fs::path cache = fs::weakly_canonical(fs::absolute(config.cache_dir), ec);
    const fs::path src = fs::weakly_canonical(fs::absolute(config.source), ec);
    const fs::path out = fs::weakly_canonical(fs::absolute(config.output), ec);
    if (is_within(out, cache))
        throw Error(ErrorKind::usage, "cache folder " + config.cache_dir.string() + " is inside output folder " +
                                          config.output.string() +
                                          "; it would be deployed (choose another --cache-dir)");
    if (is_within(src, cache) && cache != src)
        return {cache.lexically_relative(src).generic_string()};
    return {};
}

void check_folders(const Config& config)
{
    std::error_code ec;
    if (!fs::is_directory(config.source, ec))
        throw Error(ErrorKind::usage, config.source.string() + ": source is not a folder");
    const fs::path src = fs::weakly_canonical(fs::absolute(config.source), ec);
    const fs::path out = fs::weakly_canonical(fs::absolute(config.output), ec);
    if (is_within(src, out))
        throw Error(ErrorKind::usage, "output folder " + config.output.string() + " is inside source folder " +
                                          config.source.string() + "; choose an OUT outside SRC");
    if (is_within(out, src))
        throw Error(ErrorKind::usage, "source folder " + config.source.string() + " is inside output folder " +
                                          config.output.string() + "; choose an OUT outside SRC");
}

ScanResult plan_build(const Config& config)
{
    check_folders(config);
    manifest_path(config);
    return scan_tree(config.source, config.preset, folders_to_skip(config));
}

std::size_t remove_temporaries(const fs::path& out)
{
    std::size_t removed = 0;
    std::error_code ec;
    // (Links to folders are not followed: nothing outside OUT is looked at.)
    for (fs::recursive_directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with(k_temporary_prefix) && name != std::string(k_temporary_prefix) + "build" &&
            !it->is_symlink(ec) && it->is_regular_file(ec) && fs::remove(it->path(), ec))
            ++removed;
    }
    return removed;
}

Session::~Session() = default; // the lock's file goes: ended, well or not, but not killed

Session::Session(const Config& config, const FileSystem& fs, Reporter& reporter, BuildMemory::Kept* memory,
                 const std::vector<std::string>* changed)
{
    Session& session = *this;
    check_folders(config);
    session.manifest = manifest_path(config);
    std::error_code ec;
    fs::create_directories(config.output, ec);
    if (ec)
        throw io_error(config.output.string(), "cannot create output folder", ec.value());
    // One build at a time into OUT. A build that was killed left the lock's file, and maybe
    // temporary and staged files: they go now, under the lock, before anything is written.
    lock.emplace(build_lock_path(config.output), config.output);
    if (const std::size_t finished = RenameJournal::finish(config.output); finished > 0)
        reporter.warning("finished publishing the build that was stopped while it published " +
                         printable(config.output.string()) + " (" + std::to_string(finished) +
                         (finished == 1 ? " file" : " files") + " put in place)");
    if (lock->left_by_a_stopped_build()) {
        const std::size_t removed = remove_temporaries(config.output);
        if (removed > 0)
            reporter.warning("removed " + std::to_string(removed) + " temporary files a stopped build left in " +
                             printable(config.output.string()));
    }
    if (!config.cache_dir.empty()) {
        try {
            session.cache.emplace(config.cache_dir);
            if (!config.preset.cache.urls.empty())
                session.cache->attach_remote(std::make_unique<RemoteCache>(config.preset.cache));
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::io)
                throw;
            cache_problem = e.what(); // the cache is an optimisation: build without it
            reporter.warning("the cache cannot be used (" + printable(cache_problem) + "); building without it");
        }
    }
    session.scan_time_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    // The last build's index is read, and the outputs it names are looked at in OUT, while SRC
    // is scanned: all but the reading is system calls, on as many threads as -j.
    const bool remembered = memory && memory->valid && session.cache;
    session.incremental = remembered && changed;
    std::vector<IndexEntry*> kept_pairing;
    std::vector<char> kept_named;
    if (memory) {
        memory->valid = false; // until this build completes
        kept_pairing = std::move(memory->pairing);
        memory->pairing.clear();
        kept_named = std::move(memory->named);
        memory->named.clear();
    }
    if (session.incremental) {
        session.scan = rescan(std::move(memory->scan), config.source, config.preset, folders_to_skip(config), *changed);
        session.previous = std::move(memory->index); // (its nodes, which pairing points to, stay where they are)
        if (session.scan.same_paths && kept_pairing.size() == session.scan.assets.size())
            session.pairing = std::move(kept_pairing);
        if (session.scan.same_paths && kept_named.size() == session.scan.assets.size())
            session.named_before = std::move(kept_named);
        reporter.phase("changed sources looked at");
    } else {
        std::exception_ptr scan_error;
        auto scan_src = [&] {
            try {
                session.scan = scan_tree(config.source, config.preset, folders_to_skip(config));
                reporter.phase("SRC scanned");
            } catch (...) {
                scan_error = std::current_exception();
            }
        };
        // The index read from the cache is decoded on -j threads, the first of which scans SRC
        // first, and each chunk's outputs are looked at on the thread that decoded it; then
        // those of the journal's entries (all of them for a watch's index, kept from before).
        std::jthread scanner;
        bool checked = false;
        if (!remembered && session.cache) {
            session.previous = session.cache->load_index(
                config.output, config.jobs,
                [&](std::map<std::string, IndexEntry>& chunk) { check_outputs(chunk, fs, config.output); }, scan_src);
            checked = true;
            reporter.phase("index of the last build read");
        } else {
            scanner = std::jthread(scan_src);
            if (remembered)
                session.previous = std::move(memory->index);
        }
        if (!session.previous.assets.empty() && !(checked && session.previous.journaled.empty())) {
            check_outputs(session.previous, fs, config.output, config.jobs, checked);
            reporter.phase("outputs in OUT looked at");
        }
        session.previous.journaled = {};
        if (scanner.joinable())
            scanner.join();
        if (scan_error)
            std::rethrow_exception(scan_error);
    }
    session.last = ManifestHead{config.preset.name, session.previous.build_id, session.previous.generations, {}};
    if (session.previous.assets.empty()) { // no cache, or none of this OUT: the manifest there says
        try {
            if (fs::exists(session.manifest, ec))
                for (const auto& r : read_manifest(session.manifest, &session.last))
                    for (auto& p : output_paths(r))
                        session.published_before.insert(std::move(p));
        } catch (const Error&) {
            session.last = {}; // not a cachet manifest: delete nothing
        }
    }
    session.source_root = fs::weakly_canonical(fs::absolute(config.source), ec).string();
}

} // namespace cachet
