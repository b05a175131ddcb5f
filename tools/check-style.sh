#!/usr/bin/env bash
# tools/check-style.sh - the style checks CI runs (as CTest tests, tests/CMakeLists.txt).
#
#   bash tools/check-style.sh format        clang-format --dry-run --Werror on every C++ file
#   bash tools/check-style.sh tidy BUILD    clang-tidy (.clang-tidy's checks) on pipeline/ and cli/,
#                                           with BUILD's compile_commands.json
#   bash tools/check-style.sh fix           clang-format -i on every C++ file
set -euo pipefail
cd "$(dirname "$0")/.."
files() { find pipeline cli tests bench -name '*.cpp' -o -name '*.hpp' | sort; }
case "${1:-}" in
  format)
    files | xargs clang-format --dry-run --Werror
    echo "format: $(files | wc -l) files as .clang-format says"
    ;;
  fix)
    files | xargs clang-format -i
    ;;
  tidy)
    build=${2:?usage: check-style.sh tidy BUILD}
    [ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json" >&2; exit 2; }
    run-clang-tidy -p "$build" -j "$(nproc)" -quiet "$(pwd)/(pipeline|cli)/.*\.cpp$"
    ;;
  *)
    echo "usage: bash tools/check-style.sh format|fix|tidy BUILD" >&2
    exit 2
    ;;
esac
