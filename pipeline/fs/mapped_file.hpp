#pragma once
#include "pipeline/fs/file_stat.hpp"
#include "pipeline/model/bytes.hpp"

#include <filesystem>

namespace cachet {

// A file's bytes mapped read-only into memory for as long as the object lives: read from the
// page cache without copying them into fresh memory (which the kernel must zero first). For
// files that are only ever replaced by a rename (the index's snapshot): a file cut short in
// place while mapped would fault its reader.
class MappedFile {
public:
    // Throws io_error naming the path if it cannot be opened, stat'ed or mapped.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ByteView bytes() const { return {m_data, m_size}; }
    const FileStat& stat() const { return m_stat; } // of the file mapped

private:
    const std::uint8_t* m_data = nullptr;
    std::size_t m_size = 0;
    FileStat m_stat;
};

} // namespace cachet
