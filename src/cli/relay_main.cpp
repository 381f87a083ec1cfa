#include <iostream>

#include "relay_commands.h"

int main(int argc, char** argv) { return bucketpay::cli::run_relay_cli(argc, argv, std::cout, std::cerr); }
