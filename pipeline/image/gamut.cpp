#include "pipeline/image/gamut.hpp"

#include <lcms2.h>

#include <cmath>

namespace cachet {

namespace {

// Colorant (D50-adapted XYZ) of the red, green and blue primaries of the profile.
struct Primaries {
    double xyz[3][3];
};

constexpr Primaries k_srgb{{{0.4361, 0.2225, 0.0139}, {0.3851, 0.7169, 0.0971}, {0.1431, 0.0606, 0.7141}}};
constexpr Primaries k_display_p3{{{0.5151, 0.2412, -0.0011}, {0.2920, 0.6922, 0.0419}, {0.1571, 0.0666, 0.7841}}};

bool near(const Primaries& a, const cmsCIEXYZ* const (&b)[3])
{
    double diff = 0;
    for (int i = 0; i < 3; ++i)
        diff += std::abs(a.xyz[i][0] - b[i]->X) + std::abs(a.xyz[i][1] - b[i]->Y) + std::abs(a.xyz[i][2] - b[i]->Z);
    return diff < 0.02;
}

} // namespace

Gamut gamut_of_icc(const void* data, std::size_t size)
{
    cmsHPROFILE profile = cmsOpenProfileFromMem(data, static_cast<cmsUInt32Number>(size));
    if (!profile)
        return Gamut::srgb;
    Gamut gamut = Gamut::srgb;
    const cmsCIEXYZ* const colorants[3] = {static_cast<const cmsCIEXYZ*>(cmsReadTag(profile, cmsSigRedColorantTag)),
                                           static_cast<const cmsCIEXYZ*>(cmsReadTag(profile, cmsSigGreenColorantTag)),
                                           static_cast<const cmsCIEXYZ*>(cmsReadTag(profile, cmsSigBlueColorantTag))};
    if (cmsGetColorSpace(profile) == cmsSigRgbData && colorants[0] && colorants[1] && colorants[2]) {
        if (near(k_display_p3, colorants))
            gamut = Gamut::display_p3;
        else if (!near(k_srgb, colorants))
            gamut = Gamut::other;
    }
    cmsCloseProfile(profile);
    return gamut;
}

} // namespace cachet
