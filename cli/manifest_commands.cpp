#include "cli/common.hpp"
#include "pipeline/export/export.hpp"
#include "pipeline/export/report.hpp"
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
    bool json = false;
};

// A command's result as one JSON document on stdout (--json).
void print_json(const nlohmann::json& doc)
{
    std::fputs((doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), stdout);
}

int picture(const PictureFlags& flags)
{
    const std::string manifest = manifest_file(flags.manifest);
    for (const auto& record : read_manifest(manifest))
        if (record.source == flags.source) {
            const std::string html = picture_element(record, flags.options);
            if (flags.json)
                print_json({{"status", "ok"}, {"source", record.source}, {"html", html}});
            else
                std::fputs(html.c_str(), stdout);
            return k_exit_ok;
        }
    throw Error(ErrorKind::usage, printable(manifest) + " has no source \"" + printable(flags.source) + "\"");
}

struct ExportFlags {
    std::string format;
    std::string manifest = "cachet-manifest.json";
    std::string file; // "" or "-": standard output
    std::string out_dir;
    ExportOptions options;
    bool json = false;
};

int export_command(ExportFlags flags)
{
    // OUT is the manifest's folder unless given; the manifest's own URL is its path in OUT.
    {
        std::error_code ec; // (a folder: before the journal check, which looks at OUT)
        if (fs::is_directory(flags.manifest, ec))
            flags.manifest = (fs::path(flags.manifest) / k_manifest_name).string();
    }
    if (!flags.out_dir.empty() && !fs::is_directory(flags.out_dir)) // (it meant the file to write, once)
        throw Error(ErrorKind::usage, "-o/--output names the output folder the manifest describes, as for cachet "
                                      "build, and " +
                                          printable(flags.out_dir) +
                                          " is not a folder; to write the export to a file, use --file " +
                                          printable(flags.out_dir));
    const fs::path manifest = fs::absolute(flags.manifest).lexically_normal();
    const fs::path out =
        flags.out_dir.empty() ? manifest.parent_path() : fs::absolute(flags.out_dir).lexically_normal();
    // (Before the manifest is read: a first build stopped so may have left none yet.)
    if (RenameJournal::pending(out))
        throw Error(ErrorKind::config, printable(out.string()) +
                                           ": a build was stopped while it published this folder; run cachet build "
                                           "(or cachet clean) to finish it before exporting");
    ManifestHead head;
    const auto records = read_manifest(manifest_file(flags.manifest), &head);
    const ExportFormat format = export_format_named(flags.format);
    const fs::path relative = manifest.lexically_relative(out);
    flags.options.manifest_path = relative.empty() || *relative.begin() == ".." ? manifest.filename().generic_string()
                                                                                : relative.generic_string();
    for (const auto& part : head.parts) // beside the manifest
        flags.options.manifest_parts.push_back(
            (fs::path(flags.options.manifest_path).parent_path() / part.path).generic_string());
    flags.options.out_dir = flags.out_dir.empty() ? fs::path(flags.manifest).parent_path().string() : flags.out_dir;
    if (flags.options.out_dir.empty())
        flags.options.out_dir = ".";
    const std::string text = export_manifest(format, records, flags.options);
    const bool to_stdout = flags.file.empty() || flags.file == "-";
    if (!to_stdout) {
        write_file_atomic(flags.file, as_bytes(text));
        if (format == ExportFormat::s3)
            fs::permissions(flags.file, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                            fs::perm_options::add);
    }
    if (flags.json)
        print_json({{"status", "ok"},
                    {"format", flags.format},
                    {"file", to_stdout ? nlohmann::json(nullptr) : nlohmann::json(flags.file)},
                    {"bytes", text.size()},
                    {"text", to_stdout ? nlohmann::json(text) : nlohmann::json(nullptr)}});
    else if (to_stdout)
        std::fputs(text.c_str(), stdout);
    return k_exit_ok;
}

struct ReportFlags {
    std::string output; // OUT
    std::string source; // SRC, for distances
    std::string manifest;
    std::string file; // "" or "-": standard output
    bool json = false;
};

// `cachet report OUT`: the HTML page of what the build in OUT made (export/report.hpp).
int report(const ReportFlags& flags)
{
    if (!fs::is_directory(flags.output))
        throw Error(ErrorKind::usage, printable(flags.output) + " is not a folder (cachet report OUT: the output "
                                                                "folder of a build)");
    const std::string manifest = manifest_file(flags.manifest.empty() ? flags.output : flags.manifest);
    ReportOptions options;
    options.out_dir = flags.output;
    options.source_dir = flags.source;
    const std::string html = report_html(read_manifest(manifest), options);
    const bool to_stdout = flags.file.empty() || flags.file == "-";
    if (to_stdout && !flags.json)
        std::fputs(html.c_str(), stdout);
    else if (!to_stdout)
        write_file_atomic(flags.file, as_bytes(html));
    if (flags.json)
        print_json({{"status", "ok"},
                    {"file", to_stdout ? nlohmann::json(nullptr) : nlohmann::json(flags.file)},
                    {"bytes", html.size()}});
    return k_exit_ok;
}

struct ManifestFlags {
    std::string manifest = "cachet-manifest.json";
    std::string source;
    bool pretty = false;
};

// Prints the manifest (or one source's entry), checked as cachet reads it, compact or indented.
// Of a manifest in parts, its top (or the entry, from the part that holds it).
int manifest_command(const ManifestFlags& flags)
{
    const std::string path = manifest_file(flags.manifest);
    const Bytes text = read_file(path);
    ManifestHead head;
    read_manifest(path, &head); // a manifest cachet reads (parts and all), or the error saying why not
    const auto doc = nlohmann::json::parse(as_text(text));
    const nlohmann::json* shown = &doc;
    nlohmann::json part; // the part that holds the source, of a manifest in parts
    const nlohmann::json none = nlohmann::json::object();
    if (!flags.source.empty()) {
        for (const auto& p : head.parts)
            if (p.first <= flags.source && flags.source <= p.last)
                part = nlohmann::json::parse(as_text(read_file(fs::path(path).parent_path() / p.path)));
        const nlohmann::json& assets = head.parts.empty() ? doc.at("assets")
                                       : part.is_object() ? part.at("assets")
                                                          : none;
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
    std::string manifest; // "": OUT's cachet-manifest.json
    int keep = 2;
    std::string age = "1h";
    bool json = false;
};

int clean(const CleanFlags& flags)
{
    const auto age = std::chrono::seconds(parse_duration(flags.age));
    // --manifest is a path, as for export and picture (a file, or a folder holding
    // cachet-manifest.json), and must lie in OUT, which it describes.
    std::string name(k_manifest_name);
    if (!flags.manifest.empty()) {
        std::error_code ec;
        if (!fs::exists(flags.manifest, ec) && fs::exists(fs::path(flags.output) / flags.manifest, ec))
            throw Error(ErrorKind::usage, "no manifest here: " + printable(flags.manifest) +
                                              " does not exist (--manifest is a path, as for export: did you mean " +
                                              printable((fs::path(flags.output) / flags.manifest).string()) + "?)");
        const fs::path relative = fs::absolute(manifest_file(flags.manifest))
                                      .lexically_normal()
                                      .lexically_relative(fs::absolute(flags.output).lexically_normal());
        if (relative.empty() || *relative.begin() == "..")
            throw Error(ErrorKind::usage, "--manifest " + printable(flags.manifest) + " is not in " +
                                              printable(flags.output) + ", the output folder it must describe");
        name = relative.generic_string();
    }
    const CleanResult r = clean_output(flags.output, name, flags.keep, age);
    if (flags.json)
        print_json({{"status", "ok"}, {"removed", r.removed}, {"generations_kept", r.generations}});
    else
        std::printf("cachet clean: removed %llu files; %zu earlier build%s kept\n",
                    static_cast<unsigned long long>(r.removed), r.generations, r.generations == 1 ? "" : "s");
    return k_exit_ok;
}

void add_manifest_flag(CLI::App& command, std::string& manifest)
{
    command
        .add_option("--manifest", manifest,
                    "The manifest to read, or the output folder holding it (cachet-manifest.json)")
        ->capture_default_str()
        ->option_text("<FILE|DIR>");
}

// -f/--file: where export and report write what they make ("" or "-": standard output).
void add_file_flag(CLI::App& command, std::string& file)
{
    command.add_option("-f,--file", file, "File to write, atomically (default: standard output)")
        ->option_text("<FILE>");
}

} // namespace

std::vector<Command> add_manifest_commands(CLI::App& app)
{
    auto picture_flags = std::make_shared<PictureFlags>();
    CLI::App* picture_cmd = app.add_subcommand("picture", "Print a <picture> element for a built image");
    picture_cmd->add_option("PATH", picture_flags->source, "Source path of the image, as in the manifest")->required();
    add_manifest_flag(*picture_cmd, picture_flags->manifest);
    picture_cmd->add_option("--sizes", picture_flags->options.sizes, "The sizes attribute")
        ->capture_default_str()
        ->option_text("<SIZES>");
    picture_cmd->add_option("--alt", picture_flags->options.alt, "The alt text")->option_text("<ALT>");
    picture_cmd->add_option("--class", picture_flags->options.css_class, "The class of the <img>")
        ->option_text("<CLASS>");
    picture_cmd->add_option("--base", picture_flags->options.base, "Prefix of every URL (where OUT is served)")
        ->capture_default_str()
        ->option_text("<URL>");
    picture_cmd->add_flag("--json", picture_flags->json, "Print {\"source\", \"html\"} as JSON on stdout");
    picture_cmd->footer("Examples:\n"
                        "  cachet picture img/hero.jpg --manifest dist --alt \"Our team\"\n"
                        "  cachet picture img/hero.jpg --manifest dist --sizes \"(min-width: 60em) 50vw, 100vw\"\n"
                        "  cachet picture img/logo.png --manifest dist --base https://cdn.example.com/");

    auto export_flags = std::make_shared<ExportFlags>();
    CLI::App* export_cmd = app.add_subcommand(
        "export", "Write server, CDN or uploader configuration from a manifest: headers (_headers for Netlify and "
                  "Cloudflare Pages), nginx, caddy, s3 (an aws CLI upload script), sw-precache (Workbox list)");
    export_cmd->add_option("FORMAT", export_flags->format, "headers, nginx, caddy, s3 or sw-precache")->required();
    add_manifest_flag(*export_cmd, export_flags->manifest);
    add_file_flag(*export_cmd, export_flags->file);
    export_cmd
        ->add_option("-o,--output", export_flags->out_dir,
                     "The output folder the manifest describes, as for build (default: the manifest's folder)")
        ->option_text("<DIR>");
    export_cmd->add_option("--base", export_flags->options.base, "headers, sw-precache: the URL path OUT is served at")
        ->capture_default_str()
        ->option_text("<URL>");
    export_cmd->add_option("--precache", export_flags->options.precache, "sw-precache: globs of the outputs to list")
        ->capture_default_str()
        ->option_text("<GLOB>...");
    export_cmd->add_flag("--negotiate,!--no-negotiate", export_flags->options.negotiate,
                         "nginx, caddy: serve the AVIF or WebP of a fallback image's size at its URL (the "
                         "image's own URL too) to browsers that accept it (default: on)");
    export_cmd
        ->add_option("--service-worker", export_flags->options.service_worker,
                     "Globs of service worker scripts (never precached, uploaded after pages)")
        ->capture_default_str()
        ->option_text("<GLOB>...");
    export_cmd->add_flag("--per-object", export_flags->options.s3_per_object,
                         "s3: one aws s3 cp per object, instead of one per group of objects with the same headers");
    export_cmd->add_flag("--json", export_flags->json,
                         "Print {\"format\", \"file\", \"bytes\", \"text\"} as JSON on stdout (text: without --file)");
    export_cmd->footer(
        "Examples:\n"
        "  cachet export nginx --manifest dist --file cachet.nginx     an include for the server block\n"
        "  cachet export caddy --manifest dist --file cachet.caddy\n"
        "  cachet export headers --manifest dist --file dist/_headers  Netlify, Cloudflare Pages\n"
        "  cachet export s3 --manifest dist --file upload.sh           then: sh upload.sh s3://bucket/site");

    auto report_flags = std::make_shared<ReportFlags>();
    CLI::App* report_cmd = app.add_subcommand(
        "report", "Write a self-contained HTML page of what a build made: each image's formats beside its source, "
                  "with bytes and Butteraugli distances, and the texts' savings");
    report_cmd->add_option("OUT", report_flags->output, "The output folder of a build")->required();
    report_cmd->add_option("--src", report_flags->source, "SRC, to compare each image with its source (Butteraugli)")
        ->option_text("<DIR>");
    add_file_flag(*report_cmd, report_flags->file);
    report_cmd->add_option("--manifest", report_flags->manifest, "The manifest, if not OUT's cachet-manifest.json")
        ->option_text("<FILE|DIR>");
    report_cmd->add_flag("--json", report_flags->json, "Print {\"file\", \"bytes\"} as JSON on stdout");
    report_cmd->footer("Examples:\n"
                       "  cachet report dist --src public --file report.html\n"
                       "  cachet report dist > report.html             without distances (no SRC)");

    auto manifest_flags = std::make_shared<ManifestFlags>();
    CLI::App* manifest_cmd = app.add_subcommand(
        "manifest", "Print a manifest, or one source's entry, indented with --pretty (it is written compact)");
    manifest_cmd
        ->add_option("MANIFEST", manifest_flags->manifest,
                     "The manifest, or the output folder holding it (cachet-manifest.json)")
        ->capture_default_str();
    manifest_cmd->add_option("--source", manifest_flags->source, "Print only this source's entry")
        ->option_text("<PATH>");
    manifest_cmd->add_flag("--pretty", manifest_flags->pretty, "Indent by two spaces");
    manifest_cmd->footer("Examples:\n"
                         "  cachet manifest dist --pretty | less\n"
                         "  cachet manifest dist --source css/site.css --pretty");

    auto clean_flags = std::make_shared<CleanFlags>();
    CLI::App* clean_cmd = app.add_subcommand(
        "clean",
        "Delete the outputs of earlier builds that OUT no longer needs to keep (never what the manifest names)");
    clean_cmd->add_option("OUT", clean_flags->output, "The output folder")->required();
    clean_cmd->add_option("--keep", clean_flags->keep, "Earlier builds kept whole")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000))
        ->option_text("<N>");
    clean_cmd->add_option("--age", clean_flags->age, "Files of older builds stay until this old (30m, 1h, 2d, seconds)")
        ->capture_default_str()
        ->option_text("<TIME>");
    clean_cmd
        ->add_option("--manifest", clean_flags->manifest,
                     "The manifest, a path as for export (default: OUT's cachet-manifest.json)")
        ->option_text("<FILE|DIR>");
    clean_cmd->add_flag("--json", clean_flags->json, "Print {\"removed\", \"generations_kept\"} as JSON on stdout");
    clean_cmd->footer(
        "Examples:\n"
        "  cachet clean dist                        keep 2 earlier builds, and anything under an hour old\n"
        "  cachet clean dist --keep 0 --age 0       keep only what the manifest names");

    return {Command{picture_cmd, [picture_flags] { return picture(*picture_flags); }, &picture_flags->json},
            Command{export_cmd, [export_flags] { return export_command(*export_flags); }, &export_flags->json},
            Command{clean_cmd, [clean_flags] { return clean(*clean_flags); }, &clean_flags->json},
            Command{report_cmd, [report_flags] { return report(*report_flags); }, &report_flags->json},
            Command{manifest_cmd, [manifest_flags] { return manifest_command(*manifest_flags); }}};
}

} // namespace cachet::cli
