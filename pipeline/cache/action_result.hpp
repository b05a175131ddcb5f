#pragma once
#include "pipeline/model/bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cachet {

// The job result a remote cache keeps under ac/{key}: a REAPI ActionResult
// (build.bazel.remote.execution.v2), so that stock Bazel caches (bazel-remote, BuildBuddy)
// accept it. Only its output_files are used: each a path and the Digest (SHA-256 hex, size) of
// its bytes in cas/, and stdout_digest, which names cachet's own record of the job (the cache
// entry as JSON, in cas/ too: no output path can collide with it). The fields are few, so they
// are encoded here by hand, without a protobuf library.
struct ActionOutput {
    std::string path;
    std::string sha256; // lower-case hex, 64 characters
    std::uint64_t bytes = 0;
    bool operator==(const ActionOutput&) const = default;
};

struct ActionResult {
    std::vector<ActionOutput> outputs; // output_files
    ActionOutput record;               // stdout_digest (path empty)
    bool operator==(const ActionResult&) const = default;
};

// The wire bytes of result, with exit_code 0.
Bytes encode_action_result(const ActionResult& result);

// The ActionResult in data (unknown fields skipped), or nullopt if the bytes are not one:
// truncated, malformed, a digest that is not SHA-256 hex, no stdout_digest, a non-zero exit code.
std::optional<ActionResult> decode_action_result(ByteView data);

} // namespace cachet
