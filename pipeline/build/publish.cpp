#include "pipeline/build/publish.hpp"

#include "pipeline/fs/rename_journal.hpp"

#include "pipeline/build/next_index.hpp"
#include "pipeline/build/totals.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/publish/budget.hpp"
#include "pipeline/publish/headers.hpp"
#include "pipeline/publish/manifest_parts.hpp"
#include "pipeline/publish/retention.hpp"
#include "pipeline/text/fingerprint.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <thread>
#include <tuple>

namespace cachet {
namespace {

namespace fs = std::filesystem;

// One build's publication.
class Publication {
public:
    Publication(const Config& config, const RunOptions& options, Session& session, Plan& plan, const Targets& targets,
                WrittenFiles& written, Reporter& reporter, BuildMemory::Kept* memory)
        : m_config(config), m_options(options), m_session(session), m_assets(session.scan.assets), m_plan(plan),
          m_targets(targets), m_written(written), m_reporter(reporter), m_memory(memory),
          m_fs(options.file_system ? *options.file_system : real_file_system()), m_next(config, session, plan),
          m_index_files(session.previous.files)
    {}

    Summary run(std::chrono::steady_clock::time_point start)
    {
        Summary summary = count();
        // --strict: a build with a failure publishes nothing; OUT stays as the last build left
        // it (its fingerprinted additions aside, which no manifest names).
        const bool refused = m_config.missing_references == MissingReferences::fail && !summary.failures.empty();
        if (refused) {
            m_written.discard_staged();
            summary.unpublished = true;
        } else if (!unchanged()) {
            publish(summary);
        }
        if (m_session.cache) {
            if (const RemoteCache* remote = m_session.cache->remote()) {
                summary.remote = remote->stats();
                summary.remote_servers = remote->describe();
                for (const auto& problem : summary.remote->problems) {
                    m_reporter.warning("remote cache: " + printable(problem));
                    summary.warnings.emplace_back("", "remote cache: " + problem);
                }
            }
            m_session.cache->save_last_build(last_build_json(summary));
            if (auto problem = m_session.cache->write_problem()) {
                summary.cache_problem =
                    "the cache could not be written (" + *problem + "); what this build made is not kept in it";
                m_reporter.warning(printable(summary.cache_problem));
            }
        } else {
            summary.cache_problem = m_session.cache_problem;
        }
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        m_reporter.phase("build done (" + std::to_string(LazyCacheEntry::decoded_count() - m_session.decoded_before) +
                         " index entries decoded)");
        hand_over();
        return summary;
    }

private:
    bool failed(std::size_t i) const { return m_plan.results[i].status == AssetResult::Status::failed; }

    Summary count()
    {
        Summary summary;
        summary.cache = m_session.cache.has_value();
        summary.picture = m_config.preset.html.picture;
        // The default large-file warning, unless the site has its own limits ([[budgets]]) or
        // this is a shard (a share of the site, and its final build warns).
        // (A watch rebuild with the same sources as the last build counts the sources it reused
        // as they were from what that build counted.)
        // (Each source's tally also goes into its index entry: the next build counts what it
        // reuses without reading its record.)
        Tallies* tallies = nullptr;
        if (m_memory) {
            tallies = &m_memory->tallies;
            tallies->same_sources = !m_session.pairing.empty();
            m_next.use_tallies(tallies->by_source);
        }
        count_all(m_assets, m_plan.results, m_plan.skipped,
                  m_config.preset.budgets.empty() && !m_config.shard ? k_large_file_bytes : 0, m_config.jobs, summary,
                  tallies);
        for (const auto& f : summary.large)
            m_reporter.warning(f.path + ": " + large_file_message(f, k_large_file_bytes));
        for (const auto& w : m_session.scan.warnings) // "path: skipped: ..."
            summary.warnings.emplace_back("", w);
        summary.manifest = m_session.manifest.string();
        if (m_config.shard) {
            summary.shard = m_config.shard;
            summary.skipped = static_cast<std::uint64_t>(std::count(m_plan.skipped.begin(), m_plan.skipped.end(), 1));
        } else if (!m_config.preset.budgets.empty()) { // (a shard's part of the site is no site's total)
            std::vector<const AssetRecord*> records;
            for (const auto& r : m_plan.results)
                if (r.status != AssetResult::Status::failed)
                    records.push_back(&r.final_record());
            summary.budgets = check_budgets(m_config.preset, records);
        }
        return summary;
    }

    // Nothing to publish when every asset was reused as the last build left it, no source came
    // or went, and its manifest is still in place.
    bool unchanged() const
    {
        const BuildIndex& previous = m_session.previous;
        if (m_config.shard)
            return false;
        if (!(m_session.cache && previous.source_root == m_session.source_root &&
              previous.headers == published_key(m_config.preset) && previous.assets.size() == m_assets.size() &&
              previous.manifest.mtime_ns != 0 && m_fs.stat(m_session.manifest) == previous.manifest))
            return false;
        for (std::size_t i = 0; i < m_assets.size(); ++i) {
            if (failed(i))
                return false;
            const auto reused = m_plan.reused_stat(i);
            if (!reused || *reused != m_session.trusted_stat(m_assets[i]))
                return false;
        }
        if (m_config.preset.output.manifest_parts > 0) { // and its parts are as it left them
            const ManifestParts on_disk = manifest_parts();
            const auto parts = on_disk.trusted();
            return parts &&
                   std::all_of(parts->begin(), parts->end(), [&](const auto& p) { return on_disk.intact(p.second); });
        }
        return true;
    }

    // The manifest in parts in OUT, as the last build left it (if the index trusts its top).
    ManifestParts manifest_parts() const
    {
        return ManifestParts(m_fs, m_config.output, m_session.manifest,
                             m_session.cache ? m_session.previous.manifest : FileStat{});
    }

    // Whether this build's manifest names path: among the sources whose path starts as an
    // output named path would (owner_prefix()), which are few.
    bool published(std::string_view path) const
    {
        const std::string_view prefix = owner_prefix(path);
        for (std::size_t i = m_targets.find_first(prefix);
             i < m_assets.size() && std::string_view(m_assets[i].path).starts_with(prefix); ++i) {
            if (!failed(i) && m_plan.results[i].names_output(path))
                return true;
        }
        return false;
    }

    // What OUT keeps of earlier builds: the outputs of the last one this one does not name
    // become the newest generation; a generation stays whole while it is among the last
    // `keep`, and its files after that while they are younger than keep_age. Returns the
    // files that expire. (Before the index takes the records.)
    std::vector<std::string> retain_generations()
    {
        std::set<std::string>& published_before = m_session.published_before;
        // Outputs of the last build that this one did not reuse as they were may be stale.
        // When every entry of the last build is a source's now, those are found without a walk
        // over the whole index.
        auto note = [&](const IndexEntry& e) {
            if (!e.taken)
                for (auto& p : output_paths(e.entry.get().record))
                    published_before.insert(std::move(p));
        };
        if (m_next.every_entry_paired()) {
            for (const IndexEntry* e : m_plan.previous)
                if (e)
                    note(*e);
        } else {
            for (const auto& [path, e] : m_session.previous.assets)
                note(e);
        }
        published_before.erase(m_config.preset.output.manifest);
        std::vector<Generation> candidates;
        ManifestHead& last = m_session.last;
        Generation newest{last.build_id.empty() ? "unknown" : last.build_id, {}};
        for (const auto& p : published_before)
            if (!published(p) && is_safe_relative(p))
                newest.outputs.push_back(p);
        if (!newest.outputs.empty())
            candidates.push_back(std::move(newest));
        candidates.insert(candidates.end(), last.generations.begin(), last.generations.end());
        Retention retention = retain(
            m_config.output, candidates, [this](std::string_view p) { return published(p); },
            m_config.preset.output.keep, std::chrono::seconds(m_config.preset.output.keep_age_s));
        last.generations = std::move(retention.kept);
        return std::move(retention.expired);
    }

    // Whether the manifest in OUT is the one the last build published (the stat its index
    // keeps) and this build's would be the same: every entry as that build published it, no
    // source more or less, the same generations, and the same end of the document (build id,
    // generator, preset). Then it is not rendered again, nor read whole.
    bool as_published(const std::vector<ManifestEntry>& fragments) const
    {
        const BuildIndex& previous = m_session.previous;
        if (previous.manifest == FileStat{} || previous.build_id.empty() ||
            fragments.size() != previous.assets.size() || m_session.last.generations != previous.generations ||
            !std::all_of(fragments.begin(), fragments.end(), [](const ManifestEntry& e) { return e.unchanged; }))
            return false;
        try {
            const std::optional<FileStat> now = m_fs.stat(m_session.manifest);
            if (!now || *now != previous.manifest)
                return false;
            const std::string tail = manifest_tail(previous.build_id, m_config.preset, m_session.last.generations);
            return as_text(m_fs.read_end(m_session.manifest, tail.size())) == tail;
        } catch (const Error&) {
            return false;
        }
    }

    // The manifest is published last, and only if it changed; then what it no longer names goes.
    void publish(Summary& summary)
    {
        std::vector<ManifestEntry> fragments;
        for (std::size_t i = 0; i < m_assets.size(); ++i)
            if (!failed(i) && !m_plan.skipped[i])
                fragments.push_back(
                    {m_assets[i].path, m_plan.fragment(i), m_plan.fragment_digest(i), m_plan.same_entry(i)});
        // A shard's partial manifest keeps no generations and its OUT no index: OUT is a
        // shard's scratch, the final build publishes the site.
        const bool shard = m_config.shard.has_value();
        const std::vector<std::string> expired = shard ? std::vector<std::string>() : retain_generations();
        if (shard)
            m_session.last.generations.clear();
        std::string encoded_index;
        bool journal = false;
        std::jthread indexer;
        if (m_session.cache && !shard)
            indexer = m_next.encode(encoded_index, journal);
        // Every output reaches the disk before the manifest naming it goes into place: they are
        // flushed while the manifest is made and written.
        std::exception_ptr flush_error; // (before the thread, which the end of its scope waits for)
        std::jthread flusher;
        if (m_options.sync == SyncWrites::yes)
            flusher = std::jthread([&] {
                try {
                    m_written.flush();
                } catch (...) {
                    flush_error = std::current_exception();
                }
            });
        // One file: its text as the pieces it is made of (the entries' fragments where the
        // index holds them). In parts: the top, in one string.
        ManifestText rendered;
        ManifestText& text = m_memory ? m_memory->manifest : rendered;
        std::string top;
        ManifestHead& last = m_session.last;
        // In parts: the parts that changed are written now, named by their content, and the
        // top naming them all is what is published below.
        std::vector<ManifestPart> parts;
        const bool sync = m_options.sync == SyncWrites::yes;
        const bool in_parts = m_config.preset.output.manifest_parts > 0 && !shard;
        const ManifestParts on_disk = manifest_parts();
        // The parts the last top names: kept if intact (when the index trusts that top), and
        // left in OUT one build more either way (a reader of that top may still want them).
        std::map<std::string, ManifestPart> parts_before, parts_listed;
        if (in_parts || on_disk.any()) {
            parts_before = on_disk.trusted().value_or(std::map<std::string, ManifestPart>());
            parts_listed = parts_before.empty() ? on_disk.listed() : parts_before;
        }
        bool wrote_parts = false;
        if (in_parts) {
            parts =
                on_disk.write(fragments, static_cast<std::size_t>(m_config.preset.output.manifest_parts), parts_before,
                              sync ? Durability::flushed : Durability::cache, last.build_id, wrote_parts);
            top = render_manifest_top(parts, last.build_id, m_config.preset, last.generations);
            m_reporter.phase("manifest parts written");
        }
        // A build that encoded nothing (sources touched, outputs restored from the cache) may
        // well give the same manifest: then it is not written again.
        const bool built_any = std::any_of(m_plan.results.begin(), m_plan.results.end(), [](const AssetResult& r) {
            return r.status != AssetResult::Status::cached;
        });
        bool same = !in_parts && !on_disk.any() && !built_any && as_published(fragments);
        if (same) {
            m_reporter.phase("manifest as published");
        } else if (!in_parts) {
            last.build_id = render_manifest(text, std::move(fragments), m_config.preset, last.generations);
            m_reporter.phase("manifest rendered");
        }
        try {
            std::error_code ec;
            const std::size_t size = in_parts ? top.size() : text.size();
            same = same || (!built_any && !wrote_parts && fs::file_size(m_session.manifest, ec) == size &&
                            (in_parts ? as_text(m_fs.read(m_session.manifest)) == top
                                      : text == as_text(m_fs.read(m_session.manifest))));
        } catch (const Error&) {
        }
        // The outputs at names the last manifest may describe, and the manifest, go into place
        // only now, together: through a journal that the next build finishes if this one is
        // killed half way (RenameJournal), so a published manifest never describes other bytes.
        RenameJournal::Renames renames = m_written.staged_renames();
        if (!same) {
            const std::string name = m_session.manifest.lexically_relative(m_config.output).generic_string();
            const std::string staged = WrittenFiles::staging_name(name);
            const Durability durability = sync ? Durability::flushed : Durability::cache;
            if (in_parts)
                m_fs.write(m_config.output / staged, as_bytes(top), durability);
            else
                m_fs.write_pieces(m_config.output / staged, text.pieces(), durability);
            renames.emplace_back(staged, name);
        }
        text.clear(); // (its views are of this build's entries; its memory is kept)
        if (flusher.joinable()) {
            flusher.join();
            if (flush_error)
                std::rethrow_exception(flush_error);
            m_reporter.phase("outputs flushed");
        }
        try {
            RenameJournal::commit(m_config.output, renames, sync);
        } catch (const Error&) {
            if (RenameJournal::pending(m_config.output))
                m_written.staged_committed(); // the journal's now: the next build finishes it
            throw;
        }
        m_written.staged_committed();
        m_reporter.phase(same ? "manifest unchanged" : "manifest published");
        summary.removed = remove_outputs(m_config.output, expired); // only now that the manifest is out
        if (!shard)
            on_disk.remove_old(parts, parts_listed, [this](std::string_view p) { return published(p); });
        if (!m_session.cache || shard)
            return;
        indexer.join();
        const FileStat published_manifest = m_fs.stat(m_session.manifest).value_or(FileStat{});
        const BuildIndex& previous = m_session.previous;
        if (journal) {
            BuildIndex head;
            head.source_root = m_session.source_root;
            head.headers = published_key(m_config.preset);
            head.generations = last.generations;
            head.manifest = published_manifest;
            head.build_id = last.build_id;
            m_index_files = m_session.cache->append_index(m_config.output, previous.files, encoded_index, head,
                                                          [this] { // the journal is full: a snapshot instead
                                                              m_next.fill(NextIndex::Fragments::copy);
                                                              return Cache::encode_index(m_next.index);
                                                          });
        } else {
            m_index_files = m_session.cache->save_index(m_config.output, std::move(encoded_index), published_manifest,
                                                        last.build_id);
        }
        m_reporter.phase("index saved");
    }

    void hand_over()
    {
        if (m_memory) {
            if (m_next.index.assets.empty()) // nothing was published, so the index was not put together
                m_next.fill(NextIndex::Fragments::move);
            m_next.index.manifest = m_fs.stat(m_session.manifest).value_or(FileStat{});
            m_next.index.build_id = m_session.last.build_id;
            m_next.index.generations = m_session.last.generations;
            m_next.index.files = m_index_files;
            m_memory->scan = std::move(m_session.scan);
            m_memory->index = std::move(m_next.index); // (its nodes stay where they are)
            if (m_next.rewritten_in_place)
                m_memory->pairing = m_plan.previous;
            m_memory->named = m_targets.named_all();
            m_memory->valid = m_session.cache.has_value();
            return;
        }
        if (m_options.teardown ==
            Teardown::leave) // the process ends next: freeing 10,000s of records took longer than the build
            new auto(std::make_tuple(std::move(m_session.previous), std::move(m_next.index), std::move(m_plan.results),
                                     std::move(m_plan.states), std::move(m_session.scan)));
    }

    const Config& m_config;
    const RunOptions& m_options;
    Session& m_session;
    const std::vector<Asset>& m_assets;
    Plan& m_plan;
    const Targets& m_targets;
    WrittenFiles& m_written;
    Reporter& m_reporter;
    BuildMemory::Kept* m_memory;
    const FileSystem& m_fs;
    NextIndex m_next;         // the next build's index
    IndexFiles m_index_files; // where it stands on disk
};

} // namespace

Summary publish_build(const Config& config, const RunOptions& options, Session& session, Plan& plan,
                      const Targets& targets, WrittenFiles& written, Reporter& reporter, BuildMemory::Kept* memory,
                      std::chrono::steady_clock::time_point start)
{
    return Publication(config, options, session, plan, targets, written, reporter, memory).run(start);
}

} // namespace cachet
