// Catch2's main for the unit_tests executable; test cases live in *_test.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
