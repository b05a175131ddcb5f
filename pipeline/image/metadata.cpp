#include "pipeline/image/metadata.hpp"

#include "pipeline/model/error.hpp"

#include <libdeflate.h>
#include <libexif/exif-data.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace cachet {
namespace {

constexpr std::array<std::uint8_t, 6> k_exif_header{'E', 'x', 'i', 'f', 0, 0};

struct Field {
    MetadataField field;
    ExifTag tag;
};
constexpr Field k_fields[] = {
    {MetadataField::copyright, EXIF_TAG_COPYRIGHT},
    {MetadataField::artist, EXIF_TAG_ARTIST},
};

struct DataDeleter {
    void operator()(ExifData* d) const { exif_data_unref(d); }
};
struct MemDeleter {
    void operator()(ExifMem* m) const { exif_mem_unref(m); }
};
struct EntryDeleter {
    void operator()(ExifEntry* e) const { exif_entry_unref(e); }
};

} // namespace

Bytes kept_exif(ByteView exif, const std::vector<MetadataField>& keep)
{
    if (keep.empty() || exif.size() < 8)
        return {};
    // libexif reads blocks that start with the "Exif\0\0" header.
    Bytes block;
    if (std::memcmp(exif.data(), k_exif_header.data(), k_exif_header.size()) != 0)
        block.assign(k_exif_header.begin(), k_exif_header.end());
    block.insert(block.end(), exif.begin(), exif.end());
    const std::unique_ptr<ExifData, DataDeleter> source(
        exif_data_new_from_data(block.data(), static_cast<unsigned int>(block.size())));
    if (!source)
        return {};

    const std::unique_ptr<ExifMem, MemDeleter> mem(exif_mem_new_default());
    const std::unique_ptr<ExifData, DataDeleter> out(exif_data_new_mem(mem.get()));
    if (!mem || !out)
        throw Error(ErrorKind::internal, "libexif: out of memory");
    // Write exactly the kept tags: no mandatory-tag filling, no maker notes.
    exif_data_unset_option(out.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_byte_order(out.get(), EXIF_BYTE_ORDER_MOTOROLA);
    bool any = false;
    for (const Field& f : k_fields) {
        if (std::find(keep.begin(), keep.end(), f.field) == keep.end())
            continue;
        const ExifEntry* found = exif_content_get_entry(source->ifd[EXIF_IFD_0], f.tag);
        if (!found || found->format != EXIF_FORMAT_ASCII || found->size == 0 || !found->data)
            continue;
        const std::unique_ptr<ExifEntry, EntryDeleter> entry(exif_entry_new_mem(mem.get()));
        entry->data = static_cast<unsigned char*>(exif_mem_alloc(mem.get(), found->size));
        if (!entry->data)
            throw Error(ErrorKind::internal, "libexif: out of memory");
        std::memcpy(entry->data, found->data, found->size);
        entry->size = found->size;
        entry->components = found->size;
        entry->format = EXIF_FORMAT_ASCII;
        entry->tag = f.tag;
        exif_content_add_entry(out->ifd[EXIF_IFD_0], entry.get());
        any = true;
    }
    if (!any)
        return {};
    unsigned char* saved = nullptr;
    unsigned int size = 0;
    exif_data_save_data(out.get(), &saved, &size);
    if (!saved || size <= k_exif_header.size())
        throw Error(ErrorKind::internal, "libexif: cannot write EXIF");
    Bytes tiff(saved + k_exif_header.size(), saved + size); // without the "Exif\0\0" header
    exif_mem_free(mem.get(), saved);
    return tiff;
}

Bytes jpeg_with_exif(const Bytes& jpeg, ByteView tiff)
{
    if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        throw Error(ErrorKind::internal, "cannot add EXIF: not a JPEG");
    std::size_t at = 2;
    if (jpeg[2] == 0xFF && jpeg[3] == 0xE0) { // JFIF APP0 stays first
        if (jpeg.size() < 6)
            throw Error(ErrorKind::internal, "cannot add EXIF: truncated JPEG");
        at += 2 + (std::size_t{jpeg[4]} << 8 | jpeg[5]);
    }
    const std::size_t length = 2 + k_exif_header.size() + tiff.size();
    if (length > 0xFFFF || at > jpeg.size())
        throw Error(ErrorKind::internal, "cannot add EXIF: too large for one APP1 segment");
    const std::array<std::uint8_t, 4> marker{0xFF, 0xE1, static_cast<std::uint8_t>(length >> 8),
                                             static_cast<std::uint8_t>(length)};
    Bytes out;
    append(out, ByteView(jpeg).first(at));
    append(out, marker);
    append(out, k_exif_header);
    append(out, tiff);
    append(out, ByteView(jpeg).subspan(at));
    return out;
}

Bytes png_with_exif(const Bytes& png, ByteView tiff)
{
    constexpr std::size_t after_ihdr = 8 + 4 + 4 + 13 + 4; // signature, IHDR length, type, data, CRC
    if (png.size() < after_ihdr || std::memcmp(png.data() + 12, "IHDR", 4) != 0)
        throw Error(ErrorKind::internal, "cannot add EXIF: not a PNG");
    constexpr std::array<std::uint8_t, 4> type{'e', 'X', 'I', 'f'};
    Bytes chunk;
    put_be32(chunk, tiff.size());
    const std::size_t type_at = chunk.size();
    append(chunk, type);
    append(chunk, tiff);
    put_be32(chunk, libdeflate_crc32(0, chunk.data() + type_at, chunk.size() - type_at));
    Bytes out;
    append(out, ByteView(png).first(after_ihdr));
    append(out, chunk);
    append(out, ByteView(png).subspan(after_ihdr));
    return out;
}

} // namespace cachet
