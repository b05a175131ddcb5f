#pragma once
#include "pipeline/build/outputs.hpp"
#include "pipeline/build/result.hpp"
#include "pipeline/build/scan.hpp"
#include "pipeline/config/config.hpp"
#include "pipeline/text/rewrite.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

// The sources of this build as the references of a text file being built see them: which
// exist, which are built (and so may be read), which keep their names.
class Targets {
public:
    static constexpr std::size_t k_none = static_cast<std::size_t>(-1);

    Targets(const Preset& preset, const std::vector<Asset>& assets, const std::vector<AssetResult>& results)
        : m_preset(preset), m_assets(assets), m_results(results),
          m_done(std::make_unique<std::atomic<char>[]>(assets.size()))
    {}

    // The index of the source at path (assets are sorted by path), or k_none.
    std::size_t find(std::string_view path) const
    {
        const std::size_t i = find_first(path);
        return i < m_assets.size() && m_assets[i].path == path ? i : k_none;
    }

    // The index of the first source whose path is not less than path (assets.size() if none).
    std::size_t find_first(std::string_view path) const
    {
        return static_cast<std::size_t>(
            std::lower_bound(m_assets.begin(), m_assets.end(), path,
                             [](const Asset& a, std::string_view p) { return std::string_view(a.path) < p; }) -
            m_assets.begin());
    }

    // Which sources the site's scripts name (plan_script_names()), by index.
    void set_named(std::vector<char> named) { m_named = std::move(named); }
    const std::vector<char>& named_all() const { return m_named; }
    // Whether scripts name assets[index]: references to it stay as written.
    bool named(std::size_t index) const { return index < m_named.size() && m_named[index] != 0; }

    // The sources of loads and back that scripts name, sorted.
    std::vector<std::string> kept(const std::vector<std::string>& loads, const std::vector<std::string>& back) const
    {
        std::vector<std::string> out;
        for (const auto* paths : {&loads, &back})
            for (const auto& p : *paths)
                if (const std::size_t t = find(p); t != k_none && named(t))
                    out.push_back(p);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    // Whether a file referring to assets[index] needs it built first: unless its name stays
    // (it keeps its name, or scripts name it).
    bool needs_build(std::size_t index) const
    {
        return !named(index) && (m_assets[index].kind == AssetKind::image || !m_assets[index].stable);
    }

    // assets[index] is finished (its result final): files referring to it may read it.
    void mark_done(std::size_t index) { m_done[index].store(1, std::memory_order_release); }

    ReferenceTarget target(const std::string& path, const std::vector<std::string>& gave_way) const
    {
        const std::size_t index = find(path);
        if (index == k_none)
            return {};
        if (!needs_build(index))
            return {ReferenceTarget::State::unchanged, nullptr};
        if (std::binary_search(gave_way.begin(), gave_way.end(), path) ||
            !m_done[index].load(std::memory_order_acquire))
            return {ReferenceTarget::State::waiting, nullptr};
        const AssetResult& result = m_results[index];
        if (result.status == AssetResult::Status::failed)
            return {ReferenceTarget::State::failed, nullptr};
        return {ReferenceTarget::State::built, &result.final_record()};
    }

private:
    const Preset& m_preset;
    const std::vector<Asset>& m_assets;
    const std::vector<AssetResult>& m_results;
    std::unique_ptr<std::atomic<char>[]> m_done;
    std::vector<char> m_named;
};

} // namespace cachet
