#include "cli/terminal.hpp"

#include "pipeline/model/error.hpp"

#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace cachet::cli::terminal {
namespace {

bool g_interactive = isatty(STDERR_FILENO) == 1;
bool g_color = false;

} // namespace

void configure(std::string_view color)
{
    g_interactive = isatty(STDERR_FILENO) == 1;
    const char* no_color = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    if (color == "always")
        g_color = true;
    else if (color == "never")
        g_color = false;
    else if (color == "auto")
        g_color = g_interactive && !(no_color && *no_color) && !(term && std::string_view(term) == "dumb");
    else
        throw Error(ErrorKind::usage, "--color: \"" + printable(color, 100) + "\" is not auto, always or never");
}

bool interactive()
{
    return g_interactive;
}

bool color()
{
    return g_color;
}

int columns()
{
    if (!g_interactive)
        return 0;
    winsize size{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    if (const char* env = std::getenv("COLUMNS"); env && std::atoi(env) > 0)
        return std::atoi(env);
    return 80;
}

std::string paint(std::string_view text, Tone tone)
{
    if (!g_color)
        return std::string(text);
    const char* code = "";
    switch (tone) {
    case Tone::error: code = "\x1b[1;31m"; break;
    case Tone::warning: code = "\x1b[33m"; break;
    case Tone::good: code = "\x1b[32m"; break;
    case Tone::dim: code = "\x1b[2m"; break;
    }
    return code + std::string(text) + "\x1b[0m";
}

// text cut to at most width characters, keeping its end: "...ges/hero.jpg".
std::string keep_end(const std::string& text, std::size_t width)
{
    if (text.size() <= width)
        return text;
    if (width <= 3)
        return text.substr(text.size() - width);
    std::size_t from = text.size() - (width - 3);
    while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xc0) == 0x80)
        ++from; // not inside a UTF-8 sequence
    return "..." + text.substr(from);
}

std::string wrapped(const std::string& text, int columns)
{
    if (columns <= 20)
        return text;
    const auto width = static_cast<std::size_t>(columns - 1);
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + at, end - at);
        const std::size_t indent =
            std::min<std::size_t>(
                line.find_first_not_of(' ') == std::string_view::npos ? 0 : line.find_first_not_of(' '), 8) +
            2;
        bool first = true;
        while (line.size() > (first ? width : width - indent)) {
            const std::size_t room = first ? width : width - indent;
            std::size_t cut = line.rfind(' ', room);
            if (cut == std::string_view::npos || cut <= indent)
                cut = room; // no space to break at: a hard break
            out += (first ? "" : std::string(indent, ' ')) + std::string(line.substr(0, cut)) + "\n";
            line.remove_prefix(cut);
            while (!line.empty() && line.front() == ' ')
                line.remove_prefix(1);
            first = false;
        }
        out += (first ? "" : std::string(indent, ' ')) + std::string(line) + "\n";
        at = end + 1;
    }
    return out;
}

} // namespace cachet::cli::terminal
