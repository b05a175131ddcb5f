#include "pipeline/hash.hpp"

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
