#include "tests/test_support.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"

#include <avif/avif.h>
#include <brotli/decode.h>
#include <libdeflate.h>
#include <zstd.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

extern char** environ;

namespace cachet::test {

namespace fs = std::filesystem;

TempDir::TempDir()
{
    std::string pattern = (fs::temp_directory_path() / "cachet-test-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
}

TempDir::~TempDir()
{
    std::error_code ec;
    fs::permissions(m_path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(m_path, ec);
}

// Starts argv (argv[0] looked up in PATH) in cwd with stdin from /dev/null and stdout and
// stderr into the files named; returns its pid.
static pid_t spawn(const std::vector<std::string>& argv, const fs::path& cwd, const std::string& out_path,
                   const std::string& err_path)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!cwd.empty())
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + argv[0]);
    return pid;
}

Process run_program(const std::vector<std::string>& argv, const fs::path& cwd)
{
    TempDir io;
    const std::string out_path = (io / "out").string();
    const std::string err_path = (io / "err").string();
    const pid_t pid = spawn(argv, cwd, out_path, err_path);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    Process p;
    p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    p.max_rss_kib = static_cast<std::uint64_t>(usage.ru_maxrss);
    const Bytes out = slurp(out_path);
    const Bytes err = slurp(err_path);
    p.out.assign(out.begin(), out.end());
    p.err.assign(err.begin(), err.end());
    return p;
}

std::string cachet_binary()
{
    const char* chosen = std::getenv("CACHET_TEST_BINARY");
    return chosen && *chosen ? chosen : CACHET_BINARY;
}

Process run_cachet(const std::vector<std::string>& args, const fs::path& cwd)
{
    std::vector<std::string> argv{cachet_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    // Builds run without a cache unless the test names one, so that each build really builds
    // (and tests that compare two builds compare two encodes).
    const bool names_cache = std::any_of(args.begin(), args.end(), [](const std::string& a) {
        return a == "--no-cache" || a == "--cache-dir" || a.starts_with("--cache-dir=");
    });
    if (!args.empty() && args.front() == "build" && !names_cache)
        argv.push_back("--no-cache");
    return run_program(argv, cwd);
}

Background::Background(const std::vector<std::string>& argv, const fs::path& cwd)
    : m_pid(spawn(argv, cwd, "/dev/null", (m_io / "err").string()))
{}

Background::~Background()
{
    if (!m_done) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
}

void Background::signal(int sig) const
{
    if (!m_done)
        kill(m_pid, sig);
}

int Background::wait(int timeout_s)
{
    if (m_done)
        return m_code;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (waitpid(m_pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(m_pid, SIGKILL);
            waitpid(m_pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_done = true;
    m_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return m_code;
}

std::string Background::err() const
{
    const Bytes b = slurp(m_io / "err");
    return std::string(b.begin(), b.end());
}

bool eventually(const std::function<bool()>& predicate, int timeout_s)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (true) {
        if (predicate())
            return true;
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

fs::path fixtures()
{
    return CACHET_FIXTURES;
}

Bytes slurp(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const fs::path& path, std::string_view text)
{
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
}

nlohmann::json read_json(const fs::path& path)
{
    const Bytes b = slurp(path);
    return nlohmann::json::parse(b.begin(), b.end());
}

std::vector<std::pair<std::string, nlohmann::json>> outputs_in(const nlohmann::json& manifest, std::string_view format)
{
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& [source, asset] : manifest["assets"].items())
        for (const auto& o : asset["outputs"])
            if (o.contains("format") && o["format"] == format)
                out.emplace_back(source, o);
    return out;
}

fs::path copy_site(const TempDir& dir, std::string_view name)
{
    const fs::path site = dir / "site";
    fs::copy(fixtures() / name, site, fs::copy_options::recursive);
    return site;
}

fs::path site_images(const TempDir& dir, const std::vector<std::string>& names)
{
    fs::path src = dir / "src";
    fs::create_directories(src);
    for (const auto& name : names)
        fs::copy_file(fixtures() / "site/img" / name, src / name);
    return src;
}

std::vector<std::string> list_files(const fs::path& root)
{
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file())
            out.push_back(fs::relative(e.path(), root).generic_string());
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, std::string> file_digests(const fs::path& root, std::string_view extension)
{
    std::map<std::string, std::string> digests;
    for (const auto& f : list_files(root))
        if (fs::path(f).extension() == extension)
            digests[f] = sha256_hex(slurp(root / f));
    return digests;
}

AvifTags avif_tags(ByteView data)
{
    avifDecoder* d = avifDecoderCreate();
    if (avifDecoderSetIOMemory(d, data.data(), data.size()) != AVIF_RESULT_OK ||
        avifDecoderParse(d) != AVIF_RESULT_OK) {
        avifDecoderDestroy(d);
        throw std::runtime_error("not an AVIF file");
    }
    AvifTags t{static_cast<int>(d->image->colorPrimaries), d->image->icc.size};
    avifDecoderDestroy(d);
    return t;
}

AvifSequence avif_sequence(ByteView data)
{
    std::unique_ptr<avifDecoder, decltype(&avifDecoderDestroy)> d(avifDecoderCreate(), avifDecoderDestroy);
    if (avifDecoderSetIOMemory(d.get(), data.data(), data.size()) != AVIF_RESULT_OK ||
        avifDecoderParse(d.get()) != AVIF_RESULT_OK)
        throw std::runtime_error("not an AVIF file");
    AvifSequence out;
    out.width = static_cast<int>(d->image->width);
    out.height = static_cast<int>(d->image->height);
    while (avifDecoderNextImage(d.get()) == AVIF_RESULT_OK) {
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, d->image);
        rgb.format = AVIF_RGB_FORMAT_RGB;
        rgb.depth = 8;
        Bytes pixels(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * 3);
        rgb.pixels = pixels.data();
        rgb.rowBytes = static_cast<std::uint32_t>(out.width * 3);
        if (avifImageYUVToRGB(d->image, &rgb) != AVIF_RESULT_OK)
            throw std::runtime_error("AVIF frame conversion failed");
        out.frames.push_back(std::move(pixels));
        out.durations_ms.push_back(
            static_cast<int>(d->imageTiming.durationInTimescales * 1000 / std::max<std::uint64_t>(1, d->timescale)));
    }
    if (out.frames.size() != static_cast<std::size_t>(d->imageCount))
        throw std::runtime_error("AVIF: could not decode every frame");
    return out;
}

Bytes unzstd(ByteView data)
{
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        throw std::runtime_error("zstd frame without content size");
    Bytes out(size);
    const std::size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n) || n != size)
        throw std::runtime_error("zstd decompression failed");
    return out;
}

Bytes unbrotli(ByteView data, std::size_t expected_size)
{
    Bytes out(expected_size + 1);
    std::size_t size = out.size();
    if (BrotliDecoderDecompress(data.size(), data.data(), &size, out.data()) != BROTLI_DECODER_RESULT_SUCCESS)
        throw std::runtime_error("brotli decompression failed");
    out.resize(size);
    return out;
}

Bytes gunzip(ByteView data, std::size_t expected_size)
{
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    Bytes out(expected_size + 1);
    std::size_t n = 0;
    const auto r = libdeflate_gzip_decompress(d, data.data(), data.size(), out.data(), out.size(), &n);
    libdeflate_free_decompressor(d);
    if (r != LIBDEFLATE_SUCCESS)
        throw std::runtime_error("gzip decompression failed");
    out.resize(n);
    return out;
}

Preset preset_with(std::string_view toml)
{
    Preset p = load_preset("default");
    apply_config_text(p, toml, "cachet.toml");
    return p;
}

std::string config_error(std::string_view toml)
{
    try {
        preset_with(toml);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

} // namespace cachet::test
