#include "pipeline/model/hash.hpp"

#include <catch2/catch.hpp>

using namespace cachet;

TEST_CASE("sha256_hex matches the FIPS 180-2 test vector", "[hash]")
{
    CHECK(sha256_hex(as_bytes("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex(as_bytes("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sri_sha384 gives the value browsers check for subresource integrity", "[hash]")
{
    // The example from the W3C Subresource Integrity specification.
    CHECK(sri_sha384(as_bytes("alert('Hello, world.');")) ==
          "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO");
}

TEST_CASE("StreamDigest fed in pieces equals the one-shot digests", "[hash]")
{
    std::string data;
    for (int i = 0; i < 100000; ++i)
        data += static_cast<char>('a' + i % 26);
    StreamDigest stream;
    const ByteView all = as_bytes(data);
    for (std::size_t at = 0; at < all.size(); at += 7777)
        stream.update(all.subspan(at, std::min<std::size_t>(7777, all.size() - at)));
    const auto [sha256, sri] = stream.finish();
    CHECK(sha256 == sha256_hex(all));
    CHECK(sri == sri_sha384(all));
}
