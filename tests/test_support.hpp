#pragma once
#include "pipeline/config/config.hpp"
#include "pipeline/model/bytes.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet::test {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

struct Process {
    int exit_code = -1;
    std::string out;
    std::string err;
    std::uint64_t max_rss_kib = 0; // the child's peak resident memory (getrusage via wait4)
};

// The cachet binary the tests run: CACHET_TEST_BINARY if set (tools/harden.sh runs the
// end-to-end tests against the sanitizer build), else the one built beside the tests.
std::string cachet_binary();

// Runs the real cachet binary with args in working directory cwd (default: current). A build
// gets --no-cache unless args name --cache-dir or --no-cache.
Process run_cachet(const std::vector<std::string>& args, const std::filesystem::path& cwd = {});

// Runs any program (argv[0] is looked up in PATH).
Process run_program(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

// A program running in the background (argv[0] looked up in PATH), its stderr going to a file.
// The destructor kills it (SIGKILL) if it is still running.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    void signal(int sig) const;
    // Waits for the exit (at most timeout_s seconds, then SIGKILL) and returns the exit code
    // (128 + signal if killed).
    int wait(int timeout_s = 60);
    std::string err() const; // what it wrote to stderr so far
    int pid() const { return m_pid; }

private:
    TempDir m_io;
    int m_pid = -1;
    bool m_done = false;
    int m_code = -1;
};

// Polls predicate every 20 ms until it holds or timeout_s seconds pass; returns its last value.
bool eventually(const std::function<bool()>& predicate, int timeout_s = 60);

std::filesystem::path fixtures();
Bytes slurp(const std::filesystem::path& path);
void spit(const std::filesystem::path& path, std::string_view text);
nlohmann::json read_json(const std::filesystem::path& path);
// Every output of a manifest in format ("jpeg", "jxl"...), with the source it came from.
std::vector<std::pair<std::string, nlohmann::json>> outputs_in(const nlohmann::json& manifest, std::string_view format);

// The default preset with toml applied on top, as ./cachet.toml would be.
Preset preset_with(std::string_view toml);
// The message of the Error preset_with(toml) throws, or "no error".
std::string config_error(std::string_view toml);

// Copies a fixture site (fixtures/<name>) into dir/site and returns that path.
std::filesystem::path copy_site(const TempDir& dir, std::string_view name = "site");
// dir/src holding the named images of fixtures/site/img (a site of those images only).
std::filesystem::path site_images(const TempDir& dir, const std::vector<std::string>& names);

// Every regular file under root, relative and sorted.
std::vector<std::string> list_files(const std::filesystem::path& root);

// The SHA-256 (hex) of every file under root whose name ends in extension (".avif"), by its
// path relative to root.
std::map<std::string, std::string> file_digests(const std::filesystem::path& root, std::string_view extension);

} // namespace cachet::test

namespace vips {
class VImage;
}
namespace cachet {
struct Raster;
}

namespace cachet::test {

// Decodes a "data:image/webp;base64,..." URI (OpenSSL base64, libvips WebP).
vips::VImage decode_data_uri(const std::string& uri);

// The image file at path, decoded by libvips (started on first use).
vips::VImage load_image(const std::filesystem::path& path);

// An image's pixels as a Raster, in its own bands; of an encoded image, decoded by libvips.
Raster raster_of(const vips::VImage& image);
Raster raster_of(const Bytes& encoded);

// The colour tags of an AVIF file, read by libavif's parser.
struct AvifTags {
    int primaries = -1;  // CICP colour primaries (1 = BT.709/sRGB, 12 = Display P3)
    std::size_t icc = 0; // bytes of embedded ICC profile
};
AvifTags avif_tags(ByteView data);

// Every frame of an AVIF (image sequence or still) decoded by libavif/dav1d to 8-bit RGB.
struct AvifSequence {
    int width = 0;
    int height = 0;
    std::vector<Bytes> frames;     // RGB, width * height * 3 bytes each
    std::vector<int> durations_ms; // per frame, from the sequence's timescale
};
AvifSequence avif_sequence(ByteView data);

// Independent decoders (the libraries' one-shot APIs, not cachet's own code).
Bytes unzstd(ByteView data);
Bytes unbrotli(ByteView data, std::size_t expected_size);
Bytes gunzip(ByteView data, std::size_t expected_size);

} // namespace cachet::test
