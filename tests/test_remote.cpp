// The remote cache's pieces that need no server: the ActionResult codec, the URLs, and how keys
// spread over servers. The servers themselves are in tests/integration/remote.py.
#include "pipeline/cache/action_result.hpp"
#include "pipeline/cache/remote.hpp"
#include "pipeline/model/error.hpp"
#include "pipeline/model/hash.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>

using namespace cachet;
namespace fs = std::filesystem;

namespace {

void put_varint(Bytes& out, std::uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
}

ActionResult sample()
{
    ActionResult r;
    r.outputs.push_back({"img/cat.640.avif", sha256_hex(as_bytes("avif")), 1234});
    r.outputs.push_back({"img/cat.640.webp", sha256_hex(as_bytes("webp")), 0});
    r.record = {"", sha256_hex(as_bytes("record")), std::uint64_t{1} << 40};
    return r;
}

} // namespace

TEST_CASE("an ActionResult survives its wire format, and the bytes are the protobuf encoding", "[remote]")
{
    const ActionResult r = sample();
    const Bytes wire = encode_action_result(r);
    REQUIRE(decode_action_result(wire) == r);
    // output_files is field 2 (length-delimited: tag 0x12), the first holding path as field 1.
    REQUIRE(wire[0] == 0x12);
    REQUIRE(wire[2] == 0x0a);
    REQUIRE(wire[3] == std::string("img/cat.640.avif").size());
}

TEST_CASE("fields of an ActionResult that cachet does not use are skipped", "[remote]")
{
    Bytes wire = encode_action_result(sample());
    Bytes extra;
    put_varint(extra, (9u << 3) | 2); // execution_metadata, as Bazel writes it
    put_varint(extra, 3);
    extra.insert(extra.end(), {0x0a, 0x01, 'w'});
    put_varint(extra, (13u << 3) | 1); // an unknown fixed64
    extra.insert(extra.end(), 8, 0x00);
    put_varint(extra, (14u << 3) | 5); // an unknown fixed32
    extra.insert(extra.end(), 4, 0x00);
    put_varint(extra, 4u << 3); // exit_code 0
    put_varint(extra, 0);
    wire.insert(wire.begin(), extra.begin(), extra.end());
    REQUIRE(decode_action_result(wire) == sample());
}

TEST_CASE("what is not an ActionResult of cachet's is refused, never half read", "[remote]")
{
    const Bytes wire = encode_action_result(sample());
    for (std::size_t n = 0; n < wire.size(); ++n) // every truncation
        REQUIRE_FALSE(decode_action_result(ByteView(wire.data(), n)));
    Bytes failed = wire;
    put_varint(failed, 4u << 3); // exit_code 1: a failed action
    put_varint(failed, 1);
    REQUIRE_FALSE(decode_action_result(failed));
    ActionResult bad_hash = sample();
    bad_hash.outputs[0].sha256[5] = 'G';
    REQUIRE_FALSE(decode_action_result(encode_action_result(bad_hash)));
    ActionResult short_hash = sample();
    short_hash.record.sha256.pop_back();
    REQUIRE_FALSE(decode_action_result(encode_action_result(short_hash)));
    Bytes group;
    put_varint(group, (2u << 3) | 3); // a group: not in this message
    REQUIRE_FALSE(decode_action_result(group));
    Bytes long_length;
    put_varint(long_length, (2u << 3) | 2);
    put_varint(long_length, std::uint64_t{1} << 62); // longer than the message
    REQUIRE_FALSE(decode_action_result(long_length));
    REQUIRE_FALSE(decode_action_result(as_bytes("<html>502 Bad Gateway</html>")));
    REQUIRE_FALSE(decode_action_result({})); // no record: not cachet's
}

TEST_CASE("a URL is shown without its user and password", "[remote]")
{
    REQUIRE(without_credentials("https://ci:s3cret@cache.example:8080/cachet") == "https://cache.example:8080/cachet");
    REQUIRE(without_credentials("http://cache/p@th") == "http://cache/p@th");
    REQUIRE(without_credentials("http://a:b@c@cache/x") == "http://cache/x");
    REQUIRE(without_credentials("s3://bucket/prefix") == "s3://bucket/prefix");
}

TEST_CASE("a remote cache URL that cachet cannot use is a usage error naming it, without credentials", "[remote]")
{
    const auto error_of = [](const std::string& url) {
        RemoteCacheSettings s;
        s.urls = {url};
        try {
            RemoteCache cache(s);
        } catch (const Error& e) {
            REQUIRE(e.kind() == ErrorKind::usage);
            return std::string(e.what());
        }
        return std::string();
    };
    REQUIRE_THAT(error_of("ftp://u:pw@host/x"), Catch::Contains("ftp://host/x") && !Catch::Contains("pw"));
    REQUIRE_THAT(error_of("http://host/x|weight=0"), Catch::Contains("weight"));
    REQUIRE_THAT(error_of("http://host/x|weight=abc"), Catch::Contains("weight"));
    REQUIRE_THAT(error_of("http://host/x|fast"), Catch::Contains("unknown attribute \"fast\""));
    REQUIRE_THAT(error_of("http://host/a b"), Catch::Contains("not a URL"));
    REQUIRE_THAT(error_of("s3://"), Catch::Contains("bucket"));
    REQUIRE(error_of("http://host/x|read-only|weight=3").empty());
    RemoteCacheSettings none;
    REQUIRE_THROWS_AS(RemoteCache(none), Error);
}

TEST_CASE("rendezvous hashing shares keys by weight, and a server added takes keys only for itself", "[remote]")
{
    std::vector<std::pair<std::string, double>> three{{"http://a", 1}, {"http://b", 1}, {"http://c", 2}};
    std::map<std::size_t, int> count;
    std::vector<std::size_t> before;
    const int keys = 4000;
    for (int k = 0; k < keys; ++k) {
        before.push_back(rendezvous_pick(three, "cas/" + std::to_string(k)));
        ++count[before.back()];
    }
    // Shares of 1/4, 1/4, 1/2, within a few percent.
    REQUIRE(count[0] > keys / 4 - 200);
    REQUIRE(count[0] < keys / 4 + 200);
    REQUIRE(count[1] > keys / 4 - 200);
    REQUIRE(count[2] > keys / 2 - 200);
    REQUIRE(count[2] < keys / 2 + 200);
    auto four = three;
    four.emplace_back("http://d", 1);
    int moved = 0;
    for (int k = 0; k < keys; ++k) {
        const std::size_t now = rendezvous_pick(four, "cas/" + std::to_string(k));
        if (now != before[static_cast<std::size_t>(k)]) {
            REQUIRE(now == 3); // a key moves only to the new server
            ++moved;
        }
    }
    REQUIRE(moved > keys / 5 - 200); // its share: 1/5
    REQUIRE(moved < keys / 5 + 200);
}

TEST_CASE("a build that asks the remote cache nothing does not load libcurl", "[remote][e2e]")
{
    // The rule: a remote cache costs a no-op build nothing. A server nobody answers
    // on (port 9, discard): the first build asks it (and fails over to building locally), the
    // second finds everything in the local cache. The dynamic loader says what it loads.
    test::TempDir dir;
    const fs::path src = test::copy_site(dir);
    for (const auto& e : fs::recursive_directory_iterator(src)) // (else hashed again, images too)
        if (e.is_regular_file())
            fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::hours(1));
    const std::vector<std::string> args{"build",
                                        src.string(),
                                        "-o",
                                        (dir / "out").string(),
                                        "--cache-dir",
                                        (dir / "cache").string(),
                                        "--remote-cache",
                                        "http://127.0.0.1:9/cachet"};
    setenv("LD_DEBUG", "files", 1);
    const test::Process first = test::run_cachet(args);
    const test::Process second = test::run_cachet(args);
    unsetenv("LD_DEBUG");
    REQUIRE(first.exit_code == 0);
    REQUIRE(second.exit_code == 0);
    CHECK_THAT(first.err, Catch::Contains("libcurl.so.4"));
    CHECK_THAT(second.err, !Catch::Contains("libcurl.so.4") && Catch::Contains("libc.so.6"));
}
