#include "cli/cli.hpp"

int main(int argc, char** argv)
{
    return cachet::cli::main(argc, argv);
}
