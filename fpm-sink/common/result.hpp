// One error policy for what can fail at run time: Result<T> carries either a
// value or an Error with a stable id (used in log lines) and context.
// std::expected is C++23; g++ 12 (Debian 12) lacks it, so this is the small subset we need.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace fpm_sink {

// Code decides, id tells: callers that branch on an error test `err` (an
// errno value: ENOSPC "no room", ENOENT "no such entry", ...), never the id,
// which is for log lines and may be reworded.
struct Error {
  std::string id;       // stable, grep-able: "fpm.frame.bad_version", "bpf.map.full"
  std::string message;  // human context: what, where (byte offset, prefix, errno)
  int err = 0;          // errno-style code where one exists

  std::string to_string() const { return id + ": " + message; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace fpm_sink
