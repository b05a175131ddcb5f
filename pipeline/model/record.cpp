#include "pipeline/model/record.hpp"

namespace cachet {

std::vector<std::string> output_paths(const AssetRecord& record)
{
    std::vector<std::string> out;
    for (const auto& o : record.outputs) {
        out.push_back(o.path);
        for (const auto& e : o.encodings)
            out.push_back(e.path);
    }
    return out;
}

} // namespace cachet
