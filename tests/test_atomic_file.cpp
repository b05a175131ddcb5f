#include "pipeline/fs/atomic_file.hpp"

#include "pipeline/model/error.hpp"
#include "tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace cachet;
namespace fs = std::filesystem;

TEST_CASE("AtomicFile shows the new content only after commit, and leaves no temporary file", "[atomic_file]")
{
    test::TempDir dir;
    const fs::path target = dir / "a.txt";
    test::spit(target, "old");
    {
        AtomicFile file(target);
        file.write(as_bytes("new content"));
        CHECK(as_text(test::slurp(target)) == "old");
        file.commit();
    }
    CHECK(as_text(test::slurp(target)) == "new content");
    CHECK(test::list_files(dir.path()) == std::vector<std::string>{"a.txt"});
}

TEST_CASE("AtomicFile that is never committed leaves the old file and no temporary", "[atomic_file]")
{
    test::TempDir dir;
    const fs::path target = dir / "a.txt";
    test::spit(target, "old");
    {
        AtomicFile file(target);
        file.write(as_bytes("half"));
    }
    CHECK(as_text(test::slurp(target)) == "old");
    CHECK(test::list_files(dir.path()) == std::vector<std::string>{"a.txt"});
}

TEST_CASE("write_file_atomic creates folders, and failures name the path", "[atomic_file]")
{
    test::TempDir dir;
    write_file_atomic(dir / "x/y/z.bin", as_bytes("z"));
    CHECK(as_text(test::slurp(dir / "x/y/z.bin")) == "z");
    test::spit(dir / "file", "not a folder");
    try {
        write_file_atomic(dir / "file/z.bin", as_bytes("z"));
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::io);
        CHECK_THAT(e.what(), Catch::Contains((dir / "file").string()));
    }
}

TEST_CASE("write_file_atomic writes pieces in order: more than one writev() takes, empty ones, a large one",
          "[atomic_file]")
{
    test::TempDir dir;
    std::vector<std::string> texts;
    for (int i = 0; i < 3000; ++i) // IOV_MAX is 1,024
        texts.push_back(i % 7 == 0 ? std::string() : std::to_string(i) + ",");
    texts.push_back(std::string(5 << 20, 'z'));
    texts.push_back("end");
    std::vector<std::string_view> pieces(texts.begin(), texts.end());
    std::string whole;
    for (const auto& t : texts)
        whole += t;
    write_file_atomic(dir / "m.json", pieces, Durability::cache);
    CHECK(as_text(test::slurp(dir / "m.json")) == whole);
    write_file_atomic(dir / "empty", std::vector<std::string_view>{"", ""}, Durability::flushed);
    CHECK(test::slurp(dir / "empty").empty());
    CHECK(test::list_files(dir.path()) == std::vector<std::string>{"empty", "m.json"});
}

TEST_CASE("read_file reads everything and names a missing file", "[atomic_file]")
{
    test::TempDir dir;
    std::string big(300000, 'q');
    test::spit(dir / "big", big);
    CHECK(read_file(dir / "big").size() == big.size());
    CHECK_THROWS_WITH(read_file(dir / "missing"), Catch::Contains("missing") && Catch::Contains("No such file"));
}
