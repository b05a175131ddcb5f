#pragma once
#include <cstddef>

namespace cachet {

// The number of fields of the aggregate T, counted at compile time: a static_assert on it in
// the tests of a type's codecs fails when a field is added and the codecs are not told.
template <class T>
constexpr std::size_t field_count();

namespace detail {
struct AnyField {
    template <class T>
    operator T() const; // only named in unevaluated contexts
};

template <class T, class... Fields>
constexpr std::size_t count_fields()
{
    if constexpr (requires { T{Fields{}..., AnyField{}}; })
        return count_fields<T, Fields..., AnyField>();
    else
        return sizeof...(Fields);
}
} // namespace detail

template <class T>
constexpr std::size_t field_count()
{
    return detail::count_fields<T>();
}

} // namespace cachet
