// Prefixes and addresses written as text in tests. A literal that does not
// parse fails the test that wrote it instead of dereferencing an empty optional.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "common/ip.hpp"

namespace fpm_sink::test {

inline Prefix P(std::string_view text) {
  auto p = Prefix::parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(Prefix{});
}

inline IpAddr A(std::string_view text) {
  auto a = IpAddr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddr{});
}

}  // namespace fpm_sink::test
