#include "pipeline/hash.hpp"

#include "pipeline/error.hpp"

#include <openssl/evp.h>

#include <array>

namespace cachet {
namespace {

template <std::size_t N>
std::array<unsigned char, N> digest(const EVP_MD* md, ByteView data)
{
    std::array<unsigned char, N> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N)
        throw Error(ErrorKind::internal, "OpenSSL digest failed");
    return out;
}

} // namespace

std::string sha256_hex(ByteView data)
{
    static constexpr char k_hex[] = "0123456789abcdef";
    const auto d = digest<32>(EVP_sha256(), data);
    std::string out;
    out.reserve(64);
    for (unsigned char c : d) {
        out.push_back(k_hex[c >> 4]);
        out.push_back(k_hex[c & 15]);
    }
    return out;
}

std::string sri_sha384(ByteView data)
{
    const auto d = digest<48>(EVP_sha384(), data);
    std::array<unsigned char, 65> b64{};
    const int n = EVP_EncodeBlock(b64.data(), d.data(), static_cast<int>(d.size()));
    return "sha384-" + std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

} // namespace cachet
