#include "cli/common.hpp"
#include "pipeline/export/export.hpp"
#include "pipeline/fs/atomic_file.hpp"
#include "pipeline/fs/rename_journal.hpp"
#include "pipeline/publish/manifest.hpp"
#include "pipeline/publish/markup.hpp"
#include "pipeline/publish/retention.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

// The commands that read a published manifest: picture, export and clean.
namespace cachet::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_manifest_name = "cachet-manifest.json";

// The manifest --manifest names: a file, or an output folder holding cachet-manifest.json.
// Throws Error(usage) saying what to do if there is none.
std::string manifest_file(const std::string& given)
{
    std::error_code ec;
    const bool folder = fs::is_directory(given, ec);
    std::string path = folder ? (fs::path(given) / k_manifest_name).string() : given;
    if (!fs::exists(path, ec))
        throw Error(ErrorKind::usage,
                    "no manifest here: " + printable(path) +
                        " does not exist; run cachet build SRC -o OUT first, or pass --manifest OUT (the output "
                        "folder, or its manifest file)");
    return path;
}

struct PictureFlags {
    std::string source;
    std::string manifest = "cachet-manifest.json";
    PictureOptions options;
};

int picture(const PictureFlags& flags)
{
    const std::string manifest = manifest_file(flags.manifest);
    for (const auto& record : read_manifest(manifest))
        if (record.source == flags.source) {
            std::fputs(picture_element(record, flags.options).c_str(), stdout);
            return k_exit_ok;
        }
    throw Error(ErrorKind::usage, printable(manifest) + " has no source \"" + printable(flags.source) + "\"");
}

struct ExportFlags {
    std::string format;
    std::string manifest = "cachet-manifest.json";
    std::string output; // "" or "-": standard output
    std::string out_dir;
    ExportOptions options;
};

int export_command(ExportFlags flags)
{
    // OUT is the manifest's folder unless given; the manifest's own URL is its path in OUT.
    {
        std::error_code ec; // (a folder: before the journal check, which looks at OUT)
        if (fs::is_directory(flags.manifest, ec))
            flags.manifest = (fs::path(flags.manifest) / k_manifest_name).string();
    }
    const fs::path manifest = fs::absolute(flags.manifest).lexically_normal();
    const fs::path out =
        flags.out_dir.empty() ? manifest.parent_path() : fs::absolute(flags.out_dir).lexically_normal();
    // (Before the manifest is read: a first build stopped so may have left none yet.)
    if (RenameJournal::pending(out))
        throw Error(ErrorKind::config, printable(out.string()) +
                                           ": a build was stopped while it published this folder; run cachet build "
                                           "(or cachet clean) to finish it before exporting");
    const auto records = read_manifest(manifest_file(flags.manifest));
    const ExportFormat format = export_format_named(flags.format);
    const fs::path relative = manifest.lexically_relative(out);
    flags.options.manifest_path = relative.empty() || *relative.begin() == ".." ? manifest.filename().generic_string()
                                                                                : relative.generic_string();
    flags.options.out_dir = flags.out_dir.empty() ? fs::path(flags.manifest).parent_path().string() : flags.out_dir;
    if (flags.options.out_dir.empty())
        flags.options.out_dir = ".";
    const std::string text = export_manifest(format, records, flags.options);
    if (flags.output.empty() || flags.output == "-") {
        std::fputs(text.c_str(), stdout);
        return k_exit_ok;
    }
    write_file_atomic(flags.output, as_bytes(text));
    if (format == ExportFormat::s3)
        fs::permissions(flags.output, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
    return k_exit_ok;
}

struct ManifestFlags {
    std::string manifest = "cachet-manifest.json";
    std::string source;
    bool pretty = false;
};

// Prints the manifest (or one source's entry), checked as cachet reads it, compact or indented.
int manifest_command(const ManifestFlags& flags)
{
    const std::string path = manifest_file(flags.manifest);
    const Bytes text = read_file(path);
    parse_manifest(as_text(text), path); // a manifest cachet reads, or the error saying why not
    const auto doc = nlohmann::json::parse(as_text(text));
    const nlohmann::json* shown = &doc;
    if (!flags.source.empty()) {
        const auto& assets = doc.at("assets");
        const auto it = assets.find(flags.source);
        if (it == assets.end())
            throw Error(ErrorKind::usage, printable(path) + " has no source \"" + printable(flags.source) + "\"");
        shown = &*it;
    }
    std::fputs((shown->dump(flags.pretty ? 2 : -1) + "\n").c_str(), stdout);
    return k_exit_ok;
}

struct CleanFlags {
    std::string output;
    std::string manifest = "cachet-manifest.json";
    int keep = 2;
    std::string age = "1h";
};

int clean(const CleanFlags& flags)
{
    const auto age = std::chrono::seconds(parse_duration(flags.age));
    const CleanResult r = clean_output(flags.output, flags.manifest, flags.keep, age);
    std::printf("cachet clean: removed %llu files; %zu earlier build%s kept\n",
                static_cast<unsigned long long>(r.removed), r.generations, r.generations == 1 ? "" : "s");
    return k_exit_ok;
}

} // namespace

std::vector<Command> add_manifest_commands(CLI::App& app)
{
    auto picture_flags = std::make_shared<PictureFlags>();
    CLI::App* picture_cmd = app.add_subcommand("picture", "Print a <picture> element for a built image");
    picture_cmd->add_option("PATH", picture_flags->source, "Source path of the image, as in the manifest")->required();
    picture_cmd
        ->add_option("--manifest", picture_flags->manifest,
                     "The manifest to read, or the output folder holding it (cachet-manifest.json)")
        ->capture_default_str();
    picture_cmd->add_option("--sizes", picture_flags->options.sizes, "The sizes attribute")->capture_default_str();
    picture_cmd->add_option("--alt", picture_flags->options.alt, "The alt text");
    picture_cmd->add_option("--class", picture_flags->options.css_class, "The class of the <img>");
    picture_cmd->add_option("--base", picture_flags->options.base, "Prefix of every URL (where OUT is served)")
        ->capture_default_str();

    auto export_flags = std::make_shared<ExportFlags>();
    CLI::App* export_cmd = app.add_subcommand(
        "export", "Write server, CDN or uploader configuration from a manifest: headers (_headers for Netlify and "
                  "Cloudflare Pages), nginx, caddy, s3 (an aws CLI upload script), sw-precache (Workbox list)");
    export_cmd->add_option("FORMAT", export_flags->format, "headers, nginx, caddy, s3 or sw-precache")->required();
    export_cmd
        ->add_option("--manifest", export_flags->manifest,
                     "The manifest to read, or the output folder holding it (cachet-manifest.json)")
        ->capture_default_str();
    export_cmd->add_option("-o,--output", export_flags->output, "File to write (default: standard output)");
    export_cmd->add_option("--out", export_flags->out_dir,
                           "The output folder the manifest describes (default: the "
                           "manifest's folder)");
    export_cmd->add_option("--base", export_flags->options.base, "headers, sw-precache: the URL path OUT is served at")
        ->capture_default_str();
    export_cmd->add_option("--precache", export_flags->options.precache, "sw-precache: globs of the outputs to list")
        ->capture_default_str();
    export_cmd->add_flag("--negotiate,!--no-negotiate", export_flags->options.negotiate,
                         "nginx, caddy: serve the AVIF or WebP of a fallback image's size at its URL (the "
                         "image's own URL too) to browsers that accept it (default: on)");
    export_cmd
        ->add_option("--service-worker", export_flags->options.service_worker,
                     "Globs of service worker scripts (never precached, uploaded after pages)")
        ->capture_default_str();

    auto manifest_flags = std::make_shared<ManifestFlags>();
    CLI::App* manifest_cmd = app.add_subcommand(
        "manifest", "Print a manifest, or one source's entry, indented with --pretty (it is written compact)");
    manifest_cmd
        ->add_option("MANIFEST", manifest_flags->manifest,
                     "The manifest, or the output folder holding it (cachet-manifest.json)")
        ->capture_default_str();
    manifest_cmd->add_option("--source", manifest_flags->source, "Print only this source's entry");
    manifest_cmd->add_flag("--pretty", manifest_flags->pretty, "Indent by two spaces");

    auto clean_flags = std::make_shared<CleanFlags>();
    CLI::App* clean_cmd = app.add_subcommand(
        "clean",
        "Delete the outputs of earlier builds that OUT no longer needs to keep (never what the manifest names)");
    clean_cmd->add_option("OUT", clean_flags->output, "The output folder")->required();
    clean_cmd->add_option("--keep", clean_flags->keep, "Earlier builds kept whole")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000));
    clean_cmd->add_option("--age", clean_flags->age, "Files of older builds stay until this old (30m, 1h, 2d, seconds)")
        ->capture_default_str();
    clean_cmd->add_option("--manifest", clean_flags->manifest, "The manifest's name in OUT")->capture_default_str();

    return {Command{picture_cmd, [picture_flags] { return picture(*picture_flags); }},
            Command{export_cmd, [export_flags] { return export_command(*export_flags); }},
            Command{clean_cmd, [clean_flags] { return clean(*clean_flags); }},
            Command{manifest_cmd, [manifest_flags] { return manifest_command(*manifest_flags); }}};
}

} // namespace cachet::cli
