#include "pipeline/model/hash.hpp"

#include "pipeline/model/error.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <array>

namespace cachet {
namespace {

EVP_MD_CTX* context(void* p)
{
    return static_cast<EVP_MD_CTX*>(p);
}

[[noreturn]] void fail()
{
    throw Error(ErrorKind::internal, "OpenSSL digest failed");
}

std::string hex(const unsigned char* d, std::size_t n)
{
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(k_hex[d[i] >> 4]);
        out.push_back(k_hex[d[i] & 15]);
    }
    return out;
}

std::string sri(const unsigned char* d, std::size_t n)
{
    return "sha384-" + base64(ByteView(d, n));
}

EVP_MD_CTX* new_context(const EVP_MD* md)
{
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1)
        fail();
    return ctx;
}

std::string one_shot(const EVP_MD* md, ByteView data, std::string (*format)(const unsigned char*, std::size_t))
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), d, &len, md, nullptr) != 1)
        fail();
    return format(d, len);
}

} // namespace

std::uint64_t fnv1a(std::string_view data)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t checksum64(ByteView data)
{
    return XXH3_64bits(data.data(), data.size());
}

std::string base64(ByteView data)
{
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

std::string sha256_hex(ByteView data)
{
    return one_shot(EVP_sha256(), data, hex);
}

std::string sri_sha384(ByteView data)
{
    return one_shot(EVP_sha384(), data, sri);
}

Sha256Stream::Sha256Stream() : m_context(new_context(EVP_sha256())) {}

Sha256Stream::~Sha256Stream()
{
    EVP_MD_CTX_free(context(m_context));
}

void Sha256Stream::update(ByteView data)
{
    if (EVP_DigestUpdate(context(m_context), data.data(), data.size()) != 1)
        fail();
}

std::string Sha256Stream::finish()
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(context(m_context), d, &n) != 1 ||
        EVP_DigestInit_ex(context(m_context), EVP_sha256(), nullptr) != 1)
        fail();
    return hex(d, n);
}

StreamDigest::StreamDigest() : m_sha256(new_context(EVP_sha256())), m_sha384(new_context(EVP_sha384())) {}

StreamDigest::~StreamDigest()
{
    EVP_MD_CTX_free(context(m_sha256));
    EVP_MD_CTX_free(context(m_sha384));
}

void StreamDigest::update(ByteView data)
{
    if (EVP_DigestUpdate(context(m_sha256), data.data(), data.size()) != 1 ||
        EVP_DigestUpdate(context(m_sha384), data.data(), data.size()) != 1)
        fail();
}

std::pair<std::string, std::string> StreamDigest::finish()
{
    unsigned char a[EVP_MAX_MD_SIZE];
    unsigned char b[EVP_MAX_MD_SIZE];
    unsigned int na = 0;
    unsigned int nb = 0;
    if (EVP_DigestFinal_ex(context(m_sha256), a, &na) != 1 || EVP_DigestFinal_ex(context(m_sha384), b, &nb) != 1)
        fail();
    return {hex(a, na), sri(b, nb)};
}

} // namespace cachet
