#include "pipeline/export/served.hpp"

#include "pipeline/fs/glob.hpp"

#include <set>

namespace cachet::exporting {

std::string export_s3(const std::vector<AssetRecord>& records, const ExportOptions& options)
{
    const auto files = served_files(records, options);
    // Readers must never see a reference to an object not there yet: what is named by its
    // hash first, then other files, then HTML, then service workers, then the manifest.
    auto rank = [&](const Served& f) {
        if (!f.output)
            return 4;
        if (f.output->fingerprinted)
            return 0;
        if (glob_match_any(options.service_worker, f.path))
            return 3;
        if (f.content_type.rfind("text/html", 0) == 0)
            return 2;
        return 1;
    };
    std::vector<const Served*> order;
    for (const auto& f : files)
        order.push_back(&f);
    std::stable_sort(order.begin(), order.end(), [&](const Served* a, const Served* b) { return rank(*a) < rank(*b); });

    std::string out = "#!/bin/sh\n"
                      "# S3 upload plan written by `cachet export s3`: one `aws s3 cp` per object, with its\n"
                      "# Content-Type, Content-Encoding and Cache-Control from the manifest.\n"
                      "#\n"
                      "#   sh upload.sh s3://BUCKET[/PREFIX] [more aws s3 cp options, e.g. --endpoint-url URL]\n"
                      "#\n"
                      "# Order: fingerprinted files first, then the other files, then HTML, then service workers,\n"
                      "# then the manifest, so that no reader ever sees a reference to a missing object.\n"
                      "# S3 does not negotiate encodings: each encoded variant is its own object at the file's\n"
                      "# key plus .zst, .br or .gz, stored with Content-Encoding and the file's Content-Type, and\n"
                      "# the CDN in front picks the key from the request's Accept-Encoding. $CACHET_OUT overrides\n"
                      "# the folder the files are read from; $AWS the aws command.\n"
                      "set -eu\n"
                      "dest=${1:?usage: sh upload.sh s3://BUCKET[/PREFIX] [aws s3 cp options]}\n"
                      "shift\n"
                      "dest=${dest%/}\n"
                      "out=${CACHET_OUT:-" +
                      shell_quote(options.out_dir) +
                      "}\n"
                      "aws=${AWS:-aws}\n";
    std::set<std::string> unsupported;
    auto line = [&](const std::string& path, const Served& f, std::string_view encoding) {
        out += "$aws s3 cp --only-show-errors \"$out\"/" + shell_quote(path) + " \"$dest\"/" + shell_quote(path) +
               " --content-type " + shell_quote(f.content_type);
        if (!encoding.empty())
            out += " --content-encoding " + std::string(encoding);
        out += " --cache-control " + shell_quote(f.headers.cache_control);
        for (const auto& [name, value] : f.headers.extra) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower == "content-disposition" || lower == "content-language" || lower == "expires")
                out += " --" + lower + " " + shell_quote(value);
            else
                unsupported.insert(name);
        }
        out += " \"$@\"\n";
    };
    out += "\n";
    for (const Served* f : order) {
        if (f->output)
            for (const auto& e : f->output->encodings)
                line(e.path, *f, to_string(e.encoding));
        line(f->path, *f, "");
    }
    if (!unsupported.empty()) {
        std::string names;
        for (const auto& n : unsupported)
            names += (names.empty() ? "" : ", ") + n;
        out += "# S3 cannot store these headers; set them at the CDN: " + names + "\n";
    }
    return out;
}

} // namespace cachet::exporting
